package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * An insert or update violated a constraint (SQLState class {@code 23}: not-null, foreign key, check,
 * unique) or a value was invalid for its column (class {@code 22}: too long, out of range, not parseable).
 *
 * @since 0.1
 */
public class DataIntegrityViolationException extends NonTransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public DataIntegrityViolationException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
