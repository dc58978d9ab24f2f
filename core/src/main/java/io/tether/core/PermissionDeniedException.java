package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * The current user may not run the statement or log in (SQLState {@code 42501} and class {@code 28};
 * MariaDB 1044, 1045, 1142, 1143).
 *
 * @since 0.1
 */
public class PermissionDeniedException extends NonTransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public PermissionDeniedException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
