/**
 * The database API that application code uses: SQL with named parameters, row mapping, and the
 * {@link io.tether.core.DataAccessException} hierarchy that driver errors are translated into.
 *
 * <p>Every statement runs on the connection that {@code io.tether.context.ConnectionScope} bound to the
 * Reactor Context of its pipeline, or on one acquired and released for that statement alone. Errors are
 * unchecked and keep the R2DBC split between {@link io.tether.core.TransientDataAccessException} (retrying may
 * succeed) and {@link io.tether.core.NonTransientDataAccessException} (fix the code or the data first).
 */
@NullMarked
package io.tether.core;

import org.jspecify.annotations.NullMarked;
