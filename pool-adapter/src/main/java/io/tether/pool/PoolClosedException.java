package io.tether.pool;

import io.r2dbc.spi.R2dbcNonTransientResourceException;

/**
 * An acquisition was made, or was still waiting, after {@link TetherPool#close(java.time.Duration)}
 * started. Non-transient: this pool will not hand out connections again.
 *
 * @since 0.1
 */
public class PoolClosedException extends R2dbcNonTransientResourceException {

	private static final long serialVersionUID = 1L;

	public PoolClosedException(String message) {
		super(message);
	}
}
