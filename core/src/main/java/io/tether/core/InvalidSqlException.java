package io.tether.core;

import io.tether.context.TetherException;

/**
 * SQL text that Tether could not take apart to find its named parameters: an unterminated string literal,
 * quoted identifier, dollar-quoted string or block comment, or named parameters mixed with positional
 * {@code $1} markers. The message says what was wrong, where (offset and line:column) and what was expected.
 * Raised before anything is sent to the database; fix the SQL text, retrying cannot help.
 *
 * @since 0.1
 */
public class InvalidSqlException extends TetherException {

	private static final long serialVersionUID = 1L;

	public InvalidSqlException(String message) {
		super(message);
	}
}
