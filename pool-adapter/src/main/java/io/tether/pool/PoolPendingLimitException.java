package io.tether.pool;

import io.r2dbc.spi.R2dbcTransientResourceException;
import java.util.Objects;

/**
 * An acquisition was refused at once because {@link PoolSettings#maxPendingAcquires()} acquisitions
 * were already waiting. Transient: retrying later may succeed.
 *
 * @since 0.1
 */
public class PoolPendingLimitException extends R2dbcTransientResourceException {

	private static final long serialVersionUID = 1L;

	private final PoolStats stats;

	public PoolPendingLimitException(String message, PoolStats stats) {
		super(message);
		this.stats = Objects.requireNonNull(stats, "stats must not be null");
	}

	/** The pool state when the acquisition was refused. */
	public PoolStats stats() {
		return stats;
	}
}
