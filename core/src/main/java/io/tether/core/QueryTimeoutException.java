package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * A statement was cancelled, usually because it ran longer than a timeout (SQLState {@code 57014} on
 * PostgreSQL's {@code statement_timeout} and H2's query timeout, or an R2DBC timeout exception).
 *
 * @since 0.1
 */
public class QueryTimeoutException extends TransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public QueryTimeoutException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
