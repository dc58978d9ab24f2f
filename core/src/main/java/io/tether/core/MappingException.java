package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * A row could not be turned into the requested Java type: a column the type needs is missing, a value cannot
 * be converted (a {@code NULL} into a primitive, a number that does not fit, an unknown enum name), or the
 * type itself cannot be mapped (a nested record or a collection). The message names the column, the
 * Java type of its value, the target type and the class or component; it never contains the value.
 *
 * @since 0.1
 */
public class MappingException extends NonTransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public MappingException(String message) {
		super(message, null, null, 0, null);
	}

	public MappingException(String message, @Nullable Throwable cause) {
		super(message, cause, null, 0, null);
	}

	public MappingException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
