package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * The statement lost a race with a concurrent transaction: a serialization failure, a deadlock, or a lock
 * that was not granted in time (SQLState class {@code 40}, {@code 55P03}, H2's lock timeout, MariaDB 1205
 * and 1213). The transaction has been rolled back, or must be; running the whole transaction again may
 * succeed. Only the {@link SerializationFailureException} and {@link DeadlockException} subclasses are
 * retried automatically by a transaction retry (see {@code ErrorTranslator.isRetryable}): a lock timeout
 * is a wait bound the application chose, and retrying it would multiply that wait.
 *
 * @since 0.1
 */
public class ConcurrencyFailureException extends TransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public ConcurrencyFailureException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
