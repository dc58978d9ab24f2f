package io.tether.core;

import io.tether.context.TetherException;
import org.jspecify.annotations.Nullable;

/**
 * Base class of the unchecked exceptions that Tether raises for a failed database operation. It carries
 * what the database reported, the SQLState and the vendor error code, and the SQL text that failed, but
 * never bind values: a message may end up in a log that must not hold user data. The driver's own
 * exception, when there was one, is kept as the {@linkplain #getCause() cause}.
 *
 * <p>The two direct subclasses keep the R2DBC split between failures where retrying the same operation may
 * succeed ({@link TransientDataAccessException}: timeouts, serialization failures, deadlocks, lost
 * connections) and failures that need the code or the data fixed first
 * ({@link NonTransientDataAccessException}).
 *
 * @since 0.1
 */
public abstract class DataAccessException extends TetherException {

	private static final long serialVersionUID = 1L;

	private final @Nullable String sqlState;
	private final int errorCode;
	private final @Nullable String sql;

	/**
	 * @param message what happened; must not contain bind values
	 * @param cause the driver's exception, if any
	 * @param sqlState the five-character SQLState the database reported, if any
	 * @param errorCode the vendor error code, {@code 0} if there is none
	 * @param sql the SQL text that failed, if known
	 */
	protected DataAccessException(String message, @Nullable Throwable cause, @Nullable String sqlState, int errorCode,
			@Nullable String sql) {
		super(message);
		if (cause != null) {
			initCause(cause);
		}
		this.sqlState = sqlState;
		this.errorCode = errorCode;
		this.sql = sql;
	}

	/** The SQLState the database reported, or {@code null} when the failure did not come from the database. */
	public @Nullable String sqlState() {
		return sqlState;
	}

	/** The vendor-specific error code, or {@code 0} when there is none (PostgreSQL never sets one). */
	public int errorCode() {
		return errorCode;
	}

	/** The SQL text whose execution failed, or {@code null} when it is not known. Never contains bind values. */
	public @Nullable String sql() {
		return sql;
	}

	/**
	 * Whether running the same operation again may succeed without changing code or data: {@code true}
	 * exactly for {@link TransientDataAccessException}s.
	 */
	public boolean isTransient() {
		return this instanceof TransientDataAccessException;
	}
}
