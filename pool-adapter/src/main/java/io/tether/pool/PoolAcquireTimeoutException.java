package io.tether.pool;

import io.r2dbc.spi.R2dbcTimeoutException;
import java.util.Objects;

/**
 * No connection could be handed out within {@link PoolSettings#acquireTimeout()}, or, with an acquire
 * timeout of zero, none was free and none could be opened at once. Transient: retrying later may succeed.
 * The message names the limit and the pool state, e.g.
 * {@code "Connection not available: timed out after 2000ms (max=10, acquired=10, idle=0, pending=5)"}.
 *
 * @since 0.1
 */
public class PoolAcquireTimeoutException extends R2dbcTimeoutException {

	private static final long serialVersionUID = 1L;

	private final PoolStats stats;

	public PoolAcquireTimeoutException(String message, PoolStats stats) {
		super(message);
		this.stats = Objects.requireNonNull(stats, "stats must not be null");
	}

	/** The pool state when the acquisition gave up. */
	public PoolStats stats() {
		return stats;
	}
}
