package io.tether.core.internal;

import io.r2dbc.spi.R2dbcBadGrammarException;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcPermissionDeniedException;
import io.r2dbc.spi.R2dbcRollbackException;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import io.tether.core.BadSqlGrammarException;
import io.tether.core.ConcurrencyFailureException;
import io.tether.core.ConnectionFailureException;
import io.tether.core.DataAccessException;
import io.tether.core.DataIntegrityViolationException;
import io.tether.core.DeadlockException;
import io.tether.core.DuplicateKeyException;
import io.tether.core.NonTransientConnectionException;
import io.tether.core.PermissionDeniedException;
import io.tether.core.QueryTimeoutException;
import io.tether.core.SerializationFailureException;
import io.tether.core.UncategorizedDataAccessException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.util.Map;
import io.tether.pool.PoolAcquireTimeoutException;
import io.tether.pool.PoolClosedException;
import io.tether.pool.PoolPendingLimitException;
import reactor.pool.PoolShutdownException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Translates driver exceptions into the {@link DataAccessException} hierarchy.
 *
 * <p>Classification of an {@link R2dbcException}, first match wins:
 * <ol>
 *   <li>A specific SQLState: {@code 23505} duplicate key, {@code 40001} serialization failure (a deadlock
 *       when the vendor code says so: H2 40001, MariaDB/MySQL 1213, SQL Server 1205), {@code 40P01} deadlock,
 *       {@code 42501} permission, {@code 55P03} lock not available, {@code 57014} query cancelled,
 *       {@code 57P01..03} and {@code 53300} connection, {@code HYT00} H2 lock timeout (code 50200) or query
 *       timeout, {@code HY008} cancelled, {@code 3D000} (and H2's {@code 90013}, {@code 90146}) an unknown
 *       database, which no retry fixes.</li>
 *   <li>A generic SQLState that names only a class ({@code 23000}, {@code 42000}, {@code HY000}...) or none:
 *       a known vendor code refines it, so MariaDB's 1062 ({@code 23000}) is a duplicate key and its 1142
 *       ({@code 42000}, "syntax error or access rule violation") a permission error.</li>
 *   <li>The SQLState class: {@code 08} connection, {@code 22} and {@code 23} data integrity, {@code 28}
 *       permission, {@code 3D} non-transient connection, {@code 40} concurrency ({@code 40002} data integrity),
 *       {@code 42}, {@code 3F}, {@code 37}, {@code 07} bad grammar.</li>
 *   <li>The R2DBC exception subclass. Drivers disagree here (r2dbc-postgresql reports a statement timeout
 *       as a non-transient resource exception and a too-long value as bad grammar), which is why the
 *       SQLState is consulted first.</li>
 *   <li>A known vendor code with a non-standard SQLState (H2 90096 not enough rights, 90131 concurrent
 *       update, 90067/90098/90121 connection lost or database closed; MariaDB/MySQL codes).</li>
 *   <li>Anything else: {@link UncategorizedDataAccessException}.</li>
 * </ol>
 * A closed pool ({@link PoolClosedException}, reactor-pool's {@link PoolShutdownException}) becomes a
 * {@link NonTransientConnectionException}, an exhausted one a {@link ConnectionFailureException}.
 * A {@link ClosedChannelException} or {@link SocketException} becomes a {@link ConnectionFailureException};
 * every other exception, including any {@link DataAccessException} and
 * {@link io.tether.context.TetherException}, is returned unchanged.
 *
 * <p>The message is {@code "<what happened>: <driver message> [SQLState s, code c] in SQL: <sql>"}, and for a
 * connection failure the transport's reason when the driver's message lacks it ({@code Connection refused}). It
 * never contains bind values Tether sent; values the server quotes back are replaced unless the caller asks for
 * the server's detail ({@link RedactedServerException} says which): H2's messages, which append the statement
 * and quote key values, are cut back to the part that names the constraint or column, and on every driver the
 * quoted parts of data exceptions become {@code "?"}. The driver's exception stays the cause, or, where a
 * message of its chain had to change, a {@link RedactedServerException} copy of it.
 */
public final class ErrorTranslator {

	/** Longer SQL is shortened in the message (not in {@link DataAccessException#sql()}). */
	static final int MAX_SQL_IN_MESSAGE = 2000;

	private enum Kind {
		DUPLICATE_KEY("Duplicate key"),
		DATA_INTEGRITY("Data integrity violation"),
		BAD_GRAMMAR("Bad SQL grammar"),
		PERMISSION("Permission denied"),
		QUERY_TIMEOUT("Query timeout"),
		SERIALIZATION("Serialization failure"),
		DEADLOCK("Deadlock"),
		LOCK_NOT_AVAILABLE("Lock not available"),
		CONCURRENCY("Concurrency failure"),
		CONNECTION("Connection failure"),
		NON_TRANSIENT_CONNECTION("Cannot connect"),
		UNCATEGORIZED("Database error");

		final String description;

		Kind(String description) {
			this.description = description;
		}
	}

	/**
	 * Vendor codes. H2's are five digits (its SQLState mostly repeats them); MariaDB's and MySQL's are four, so
	 * the two never collide. PostgreSQL reports no vendor code.
	 */
	private static final Map<Integer, Kind> VENDOR_CODES = Map.ofEntries(
			// H2
			Map.entry(90096, Kind.PERMISSION),          // NOT_ENOUGH_RIGHTS_FOR_1
			Map.entry(90131, Kind.CONCURRENCY),         // CONCURRENT_UPDATE_1
			Map.entry(90067, Kind.CONNECTION),          // CONNECTION_BROKEN_1
			Map.entry(90098, Kind.CONNECTION),          // DATABASE_IS_CLOSED
			Map.entry(90121, Kind.CONNECTION),          // DATABASE_CALLED_AT_SHUTDOWN
			// MariaDB / MySQL
			Map.entry(1062, Kind.DUPLICATE_KEY),        // ER_DUP_ENTRY
			Map.entry(1586, Kind.DUPLICATE_KEY),        // ER_DUP_ENTRY_WITH_KEY_NAME
			Map.entry(1213, Kind.DEADLOCK),             // ER_LOCK_DEADLOCK
			Map.entry(1205, Kind.LOCK_NOT_AVAILABLE),   // ER_LOCK_WAIT_TIMEOUT
			Map.entry(1064, Kind.BAD_GRAMMAR),          // ER_PARSE_ERROR
			Map.entry(1146, Kind.BAD_GRAMMAR),          // ER_NO_SUCH_TABLE
			Map.entry(1054, Kind.BAD_GRAMMAR),          // ER_BAD_FIELD_ERROR
			Map.entry(1044, Kind.PERMISSION),           // ER_DBACCESS_DENIED_ERROR
			Map.entry(1045, Kind.PERMISSION),           // ER_ACCESS_DENIED_ERROR
			Map.entry(1142, Kind.PERMISSION),           // ER_TABLEACCESS_DENIED_ERROR
			Map.entry(1143, Kind.PERMISSION),           // ER_COLUMNACCESS_DENIED_ERROR
			Map.entry(1227, Kind.PERMISSION),           // ER_SPECIFIC_ACCESS_DENIED_ERROR
			Map.entry(1451, Kind.DATA_INTEGRITY),       // ER_ROW_IS_REFERENCED_2
			Map.entry(1452, Kind.DATA_INTEGRITY),       // ER_NO_REFERENCED_ROW_2
			Map.entry(1048, Kind.DATA_INTEGRITY),       // ER_BAD_NULL_ERROR
			Map.entry(1969, Kind.QUERY_TIMEOUT),        // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
			Map.entry(3024, Kind.QUERY_TIMEOUT),        // ER_QUERY_TIMEOUT (MySQL max_execution_time)
			Map.entry(1927, Kind.CONNECTION),           // ER_CONNECTION_KILLED
			Map.entry(1053, Kind.CONNECTION));          // ER_SERVER_SHUTDOWN

	private ErrorTranslator() {
	}

	/**
	 * Translates {@code error} as described in the class documentation.
	 *
	 * @param error the failure of a statement
	 * @param sql the SQL text that failed, or {@code null} to use what the driver reports
	 *     ({@link R2dbcException#getSql()}); must not contain bind values
	 * @return a {@link DataAccessException} whose cause is {@code error}, or {@code error} itself when it is not a
	 *     driver or connection failure
	 */
	public static Throwable translate(Throwable error, @Nullable String sql) {
		return translate(error, sql, null, false);
	}

	/**
	 * {@link #translate(Throwable, String)}, appending {@code bindValues} to the message of a translated driver
	 * error. Only for users who opted in ({@code Database.Builder#bindValuesInErrors}): values may be personal
	 * data or secrets.
	 *
	 * @param serverDetail whether the database's own message is kept whole, with the values it quotes
	 *     ({@code invalid input syntax for type integer: "<value>"}); {@code false} replaces them in the message
	 *     and, where that changed anything, replaces the driver's exception in the cause chain by a
	 *     {@link RedactedServerException} copy, so that a logged stack trace does not show them either
	 */
	public static Throwable translate(Throwable error, @Nullable String sql, @Nullable String bindValues,
			boolean serverDetail) {
		Objects.requireNonNull(error, "error must not be null");
		if (error instanceof DataAccessException) {
			return error;
		}
		if (error instanceof PoolClosedException || error instanceof PoolShutdownException) {
			// A closed pool never hands out a connection again: retrying cannot help. PoolShutdownException is
			// reactor-pool's own (an r2dbc-pool ConnectionPool given to Database.of, once disposed).
			return new NonTransientConnectionException(forSql(error.getMessage(), sql), error, null, 0, sql);
		}
		if (error instanceof PoolAcquireTimeoutException || error instanceof PoolPendingLimitException) {
			// Not a statement failure: no connection could be had. The pool's message already names the limit and
			// the pool state; a QueryTimeoutException (what R2dbcTimeoutException would map to) would mislead.
			return new ConnectionFailureException(forSql(error.getMessage(), sql), error, null, 0, sql);
		}
		if (error instanceof R2dbcException r2dbc) {
			String state = r2dbc.getSqlState();
			int code = r2dbc.getErrorCode();
			String text = sql != null ? sql : r2dbc.getSql();
			Kind kind = classify(r2dbc, state, code);
			String message = message(r2dbc, state, serverDetail);
			if (kind == Kind.CONNECTION || kind == Kind.NON_TRANSIENT_CONNECTION) {
				message = withTransportCause(message, r2dbc);
			}
			Throwable cause = serverDetail ? r2dbc : RedactedServerException.redact(r2dbc, state);
			return create(kind, message, cause, state, code, text, bindValues);
		}
		if (error instanceof ClosedChannelException || error instanceof SocketException) {
			String text = error.getMessage() != null ? error.getMessage() : error.getClass().getName();
			return create(Kind.CONNECTION, text, error, null, 0, sql, bindValues);
		}
		return error;
	}

	/**
	 * Whether a transaction that failed with {@code error} should be run again: {@code true} for a
	 * {@link SerializationFailureException} or {@link DeadlockException} (SQLState {@code 40001} / {@code 40P01}
	 * and the vendor equivalents), after translating {@code error} if it is still a driver exception. Other
	 * {@link ConcurrencyFailureException}s, lock timeouts above all, are not retryable by this rule: the lock
	 * timeout is a bound on waiting that the application chose, and a retry would multiply the wait. Only
	 * {@code error} itself is examined, not its causes.
	 */
	public static boolean isRetryable(Throwable error) {
		Objects.requireNonNull(error, "error must not be null");
		Throwable translated = translate(error, null);
		return translated instanceof SerializationFailureException || translated instanceof DeadlockException;
	}

	private static String forSql(@Nullable String message, @Nullable String sql) {
		return sql != null ? message + " (for SQL: " + sql + ")" : String.valueOf(message);
	}

	private static Kind classify(R2dbcException error, @Nullable String state, int code) {
		Kind kind = bySpecificState(state, code);
		if (kind == null && isGeneric(state)) {
			kind = VENDOR_CODES.get(code);
		}
		if (kind == null) {
			kind = byStateClass(state);
		}
		if (kind == null) {
			kind = bySubclass(error);
		}
		if (kind == null) {
			kind = VENDOR_CODES.get(code);
		}
		return kind != null ? kind : Kind.UNCATEGORIZED;
	}

	private static @Nullable Kind bySpecificState(@Nullable String state, int code) {
		if (state == null) {
			return null;
		}
		switch (state) {
			case "23505":
				return Kind.DUPLICATE_KEY;
			case "40001":
				// H2 (40001), MariaDB/MySQL (1213) and SQL Server (1205) report a deadlock with this state.
				return code == 40001 || code == 1213 || code == 1205 ? Kind.DEADLOCK : Kind.SERIALIZATION;
			case "40P01":
				return Kind.DEADLOCK;
			case "40002":
				return Kind.DATA_INTEGRITY;
			case "42501":
				return Kind.PERMISSION;
			case "55P03":
				return Kind.LOCK_NOT_AVAILABLE;
			case "57014":
			case "HY008":
				return Kind.QUERY_TIMEOUT;
			case "HYT00":
				return code == 50200 ? Kind.LOCK_NOT_AVAILABLE : Kind.QUERY_TIMEOUT;
			case "3D000":
			case "90013":   // H2 DATABASE_NOT_FOUND_1
			case "90146":   // H2 DATABASE_NOT_FOUND_WITH_IF_EXISTS_1
				return Kind.NON_TRANSIENT_CONNECTION;
			case "57P01":
			case "57P02":
			case "57P03":
			case "53300":
			case "HYT01":
				return Kind.CONNECTION;
			default:
				return null;
		}
	}

	/** A missing or malformed state, or one that names only its class (such as {@code 42000} or {@code HY000}). */
	private static boolean isGeneric(@Nullable String state) {
		return state == null || state.length() != 5 || state.endsWith("000");
	}

	private static @Nullable Kind byStateClass(@Nullable String state) {
		if (state == null || state.length() < 2) {
			return null;
		}
		switch (state.substring(0, 2)) {
			case "08":
				return Kind.CONNECTION;
			case "22":
			case "23":
				return Kind.DATA_INTEGRITY;
			case "28":
				return Kind.PERMISSION;
			case "3D":
				return Kind.NON_TRANSIENT_CONNECTION;
			case "40":
				return Kind.CONCURRENCY;
			case "42":
			case "3F":
			case "37":
			case "07":
				return Kind.BAD_GRAMMAR;
			default:
				return null;
		}
	}

	private static @Nullable Kind bySubclass(R2dbcException error) {
		if (error instanceof R2dbcDataIntegrityViolationException) {
			return Kind.DATA_INTEGRITY;
		}
		if (error instanceof R2dbcBadGrammarException) {
			return Kind.BAD_GRAMMAR;
		}
		if (error instanceof R2dbcPermissionDeniedException) {
			return Kind.PERMISSION;
		}
		if (error instanceof R2dbcTimeoutException) {
			return Kind.QUERY_TIMEOUT;
		}
		if (error instanceof R2dbcRollbackException) {
			return Kind.CONCURRENCY;
		}
		if (error instanceof R2dbcTransientResourceException || error instanceof R2dbcNonTransientResourceException) {
			return Kind.CONNECTION;
		}
		return null;
	}

	private static DataAccessException create(Kind kind, String driverMessage, Throwable cause, @Nullable String state,
			int code, @Nullable String sql, @Nullable String bindValues) {
		StringBuilder m = new StringBuilder(kind.description).append(": ").append(driverMessage)
				.append(" [SQLState ").append(state != null ? state : "n/a").append(", code ").append(code).append(']');
		if (sql != null) {
			m.append(" in SQL: ");
			if (sql.length() <= MAX_SQL_IN_MESSAGE) {
				m.append(sql);
			}
			else {
				m.append(sql, 0, MAX_SQL_IN_MESSAGE).append("... (").append(sql.length()).append(" characters)");
			}
		}
		if (bindValues != null) {
			m.append(" with values ").append(bindValues);
		}
		String message = m.toString();
		switch (kind) {
			case DUPLICATE_KEY:
				return new DuplicateKeyException(message, cause, state, code, sql);
			case DATA_INTEGRITY:
				return new DataIntegrityViolationException(message, cause, state, code, sql);
			case BAD_GRAMMAR:
				return new BadSqlGrammarException(message, cause, state, code, sql);
			case PERMISSION:
				return new PermissionDeniedException(message, cause, state, code, sql);
			case QUERY_TIMEOUT:
				return new QueryTimeoutException(message, cause, state, code, sql);
			case SERIALIZATION:
				return new SerializationFailureException(message, cause, state, code, sql);
			case DEADLOCK:
				return new DeadlockException(message, cause, state, code, sql);
			case LOCK_NOT_AVAILABLE:
			case CONCURRENCY:
				return new ConcurrencyFailureException(message, cause, state, code, sql);
			case CONNECTION:
				return new ConnectionFailureException(message, cause, state, code, sql);
			case NON_TRANSIENT_CONNECTION:
				return new NonTransientConnectionException(message, cause, state, code, sql);
			default:
				return new UncategorizedDataAccessException(message, cause, state, code, sql);
		}
	}

	/**
	 * The driver's message without what could be bind values. H2 (recognised by its JDBC exception as the cause)
	 * appends {@code "; SQL statement:\n<sql> [code-build]"} and quotes the offending values: the key of a
	 * duplicate or a missing parent row after the column list, and the value in its data exceptions ({@code 22}).
	 * Every cut is at the first possible position, so a value that happens to contain the delimiter only makes
	 * the message shorter.
	 */
	static String message(R2dbcException error, @Nullable String state) {
		return message(error, state, false);
	}

	static String message(R2dbcException error, @Nullable String state, boolean serverDetail) {
		String m = error.getMessage();
		if (m == null || m.isEmpty()) {
			return error.getClass().getName();
		}
		Throwable cause = error.getCause();
		if (cause == null || !cause.getClass().getName().startsWith("org.h2.")) {
			return serverDetail ? m : RedactedServerException.redactValues(m, state);
		}
		int tail = m.indexOf("; SQL statement:");
		if (tail >= 0) {
			m = m.substring(0, tail);
		}
		else {
			int code = m.lastIndexOf(" [");
			if (code > 0 && m.endsWith("]")) {
				m = m.substring(0, code);
			}
		}
		if (serverDetail) {
			return m;
		}
		if (state != null && state.startsWith("23")) {
			// "... ON PUBLIC.T(ID) ( /* key:42 */ 42, 'x')", "... REFERENCES PUBLIC.T(ID) (999)"
			int values = m.indexOf(") (");
			if (values >= 0) {
				m = m.substring(0, values + 1) + "\"";
			}
		}
		else if (state != null && state.startsWith("22")) {
			// 'Value too long for column "V CHARACTER VARYING(5)": "'secret' (11)"', 'Division by zero: "1"'
			int value = m.indexOf(": \"");
			if (value < 0) {
				value = m.indexOf(" \"");
			}
			if (value >= 0) {
				m = m.substring(0, value);
			}
		}
		// The cuts above are H2's redaction; the generic one would also hide the column it names.
		return m;
	}

	/**
	 * A connection failure's message with the transport's reason when the driver's own message lacks it
	 * (r2dbc-postgresql says "Cannot connect to host:port" and leaves "Connection refused" to a cause).
	 */
	private static String withTransportCause(String message, Throwable error) {
		Throwable root = error;
		for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 10; depth++) {
			root = root.getCause();
		}
		if (root == error || !(root instanceof java.io.IOException) || root.getMessage() == null
				|| message.contains(root.getMessage())) {
			return message;
		}
		return message + " (" + root.getClass().getName() + ": " + root.getMessage() + ")";
	}
}
