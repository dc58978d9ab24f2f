package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * A database failure that fits no other class. The driver's exception is the cause; {@link #sqlState()}
 * and {@link #errorCode()} tell what the database reported.
 *
 * @since 0.1
 */
public class UncategorizedDataAccessException extends NonTransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public UncategorizedDataAccessException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
