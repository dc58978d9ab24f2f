package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * A {@code SERIALIZABLE} (or {@code REPEATABLE READ}) transaction could not be serialized with a concurrent
 * one (SQLState {@code 40001}). Run the whole transaction again.
 *
 * @since 0.1
 */
public class SerializationFailureException extends ConcurrencyFailureException {

	private static final long serialVersionUID = 1L;

	public SerializationFailureException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
