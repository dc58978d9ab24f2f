/**
 * The demo service: the users/items application of the FastAPI + Peewee documentation, ported to Tether and
 * Spring WebFlux functional routes, with its {@code /slowusers} concurrency experiment.
 */
@NullMarked
package io.tether.examples.service;

import org.jspecify.annotations.NullMarked;
