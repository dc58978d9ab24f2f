package io.tether.core;

/**
 * A statement returned more rows than its result mode allows: {@link Query#one()} got a second row. Use
 * {@link Query#first()} or {@link Query#all()} when several rows are expected.
 *
 * @since 0.1
 */
public class IncorrectResultSizeException extends NonTransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public IncorrectResultSizeException(String message, String sql) {
		super(message, null, null, 0, sql);
	}
}
