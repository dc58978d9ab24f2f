package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * The database broke a deadlock by aborting this transaction (SQLState {@code 40P01} on PostgreSQL, H2's
 * deadlock error, MariaDB 1213). Run the whole transaction again.
 *
 * @since 0.1
 */
public class DeadlockException extends ConcurrencyFailureException {

	private static final long serialVersionUID = 1L;

	public DeadlockException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
