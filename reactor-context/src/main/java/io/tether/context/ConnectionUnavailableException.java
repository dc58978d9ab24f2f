package io.tether.context;

/**
 * Raised when a scope needs a further connection while the pipeline already holds one of the same
 * factory ({@link Propagation#REQUIRES_NEW}) and none arrives within the configured time. With a pool
 * this usually means the pool is too small for nested independent transactions: each concurrent
 * pipeline holds one connection and waits for a second.
 *
 * @since 0.1
 */
public class ConnectionUnavailableException extends TetherException {

	private static final long serialVersionUID = 1L;

	public ConnectionUnavailableException(String message, Throwable cause) {
		super(message, cause);
	}

	public ConnectionUnavailableException(String message) {
		super(message);
	}
}
