package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * An insert or update violated a primary key or unique constraint (SQLState {@code 23505} on PostgreSQL and
 * H2, vendor code 1062 on MariaDB and MySQL).
 *
 * @since 0.1
 */
public class DuplicateKeyException extends DataIntegrityViolationException {

	private static final long serialVersionUID = 1L;

	public DuplicateKeyException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
