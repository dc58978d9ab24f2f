package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * Tether could not parse a SQL text before sending it, for example because a quote, a dollar quote or a
 * block comment is not terminated. The message gives the position (offset, line and column); nothing was
 * sent to the database, so {@link #sqlState()} is {@code null}.
 *
 * @since 0.1
 */
public class InvalidSqlException extends NonTransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public InvalidSqlException(String message) {
		super(message, null, null, 0, null);
	}

	public InvalidSqlException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
