/**
 * A production connection pool for R2DBC, built on reactor-pool.
 *
 * <p>{@link io.tether.pool.TetherPool} is a {@link io.r2dbc.spi.ConnectionFactory} whose connections
 * come from a pool configured by {@link io.tether.pool.PoolSettings}: bounded size, a minimum of idle
 * connections kept in the background, a cap on idle ones, idle-time and lifetime eviction, init SQL run
 * once per physical connection, a limit of uses per connection, validation, keep-alive, leak detection,
 * and graceful shutdown. Errors it raises ({@link io.tether.pool.PoolAcquireTimeoutException},
 * {@link io.tether.pool.PoolPendingLimitException}, {@link io.tether.pool.PoolClosedException}) are
 * R2DBC exceptions that state the limit and the pool state.
 */
@NullMarked
package io.tether.pool;

import org.jspecify.annotations.NullMarked;
