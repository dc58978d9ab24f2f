/**
 * Implementation of {@code io.tether.webflux}; not API.
 */
@NullMarked
package io.tether.webflux.internal;

import org.jspecify.annotations.NullMarked;
