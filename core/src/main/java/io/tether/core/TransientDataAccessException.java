package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * A failure where running the same operation again may succeed: a timeout, a serialization failure or
 * deadlock, a lost connection. Whether to retry, and how often, is the caller's decision; see
 * {@link ConcurrencyFailureException} for the failures that a transaction retry is designed for.
 *
 * @since 0.1
 */
public abstract class TransientDataAccessException extends DataAccessException {

	private static final long serialVersionUID = 1L;

	protected TransientDataAccessException(String message, @Nullable Throwable cause, @Nullable String sqlState,
			int errorCode, @Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
