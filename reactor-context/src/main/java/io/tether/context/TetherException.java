package io.tether.context;

/**
 * Base class of the unchecked exceptions that Tether's connection scopes raise themselves (driver
 * exceptions are passed through unchanged).
 *
 * @since 0.1
 */
public class TetherException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	public TetherException(String message) {
		super(message);
	}

	public TetherException(String message, Throwable cause) {
		super(message, cause);
	}
}
