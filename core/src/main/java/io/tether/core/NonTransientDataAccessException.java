package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * A failure that repeats until the code, the data or the database setup changes: a constraint violation,
 * bad SQL, a missing permission, a value that cannot be mapped. Retrying it is pointless.
 *
 * @since 0.1
 */
public abstract class NonTransientDataAccessException extends DataAccessException {

	private static final long serialVersionUID = 1L;

	protected NonTransientDataAccessException(String message, @Nullable Throwable cause, @Nullable String sqlState,
			int errorCode, @Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
