/**
 * Spring WebFlux integration: a {@link org.springframework.web.server.WebFilter} that gives each request
 * one lazily acquired connection, or one transaction, and the same for functional routes.
 */
@NullMarked
package io.tether.webflux;

import org.jspecify.annotations.NullMarked;
