package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * The named parameters of a statement do not fit its bindings: a parameter without a value, a binding for
 * a name the SQL does not use, a value bound twice, a {@code null} without a type, an empty collection, more
 * values than the database accepts in one statement (an expanded {@code in (:ids)}), or a value of a Java type
 * the driver cannot encode. The message names the parameter and its position in the SQL (and the value's Java
 * type when the driver refused it); it never contains a bound value. Nothing was sent to the database.
 *
 * @since 0.1
 */
public class ParameterException extends NonTransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public ParameterException(String message) {
		super(message, null, null, 0, null);
	}

	public ParameterException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
