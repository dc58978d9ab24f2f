package io.tether.core;

import io.tether.context.TetherException;

/**
 * The bound values do not fit the named parameters of the SQL: a value for a name the SQL does not use, a
 * name without a value, a name bound twice, {@code null} without a type, or an empty collection. The
 * message names the parameter and its position in the SQL (offset and line:column) but never a bound value.
 * Raised before anything is sent to the database; fix the calling code, retrying cannot help.
 *
 * @since 0.1
 */
public class ParameterException extends TetherException {

	private static final long serialVersionUID = 1L;

	public ParameterException(String message) {
		super(message);
	}
}
