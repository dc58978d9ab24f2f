package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * The database rejected the SQL text: a syntax error, or a table, column or function that does not exist
 * (SQLState class {@code 42} except {@code 42501}, and H2's {@code 42S02}/{@code 42S22}; MariaDB 1064).
 *
 * @since 0.1
 */
public class BadSqlGrammarException extends NonTransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public BadSqlGrammarException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
