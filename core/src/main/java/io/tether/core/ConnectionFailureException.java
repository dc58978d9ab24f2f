package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * The connection to the database failed or was refused or closed (SQLState class {@code 08},
 * {@code 57P01}..{@code 57P03}, {@code 53300}, an R2DBC resource exception, a closed channel). Another
 * connection may work; a transaction that was running on this one is lost.
 *
 * @since 0.1
 */
public class ConnectionFailureException extends TransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public ConnectionFailureException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
