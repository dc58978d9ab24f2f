package io.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.r2dbc.spi.R2dbcBadGrammarException;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcPermissionDeniedException;
import io.r2dbc.spi.R2dbcRollbackException;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import io.tether.context.TetherException;
import io.tether.core.BadSqlGrammarException;
import io.tether.core.ConcurrencyFailureException;
import io.tether.core.ConnectionFailureException;
import io.tether.core.DataAccessException;
import io.tether.core.DataIntegrityViolationException;
import io.tether.core.DeadlockException;
import io.tether.core.DuplicateKeyException;
import io.tether.core.MappingException;
import io.tether.core.PermissionDeniedException;
import io.tether.core.QueryTimeoutException;
import io.tether.core.SerializationFailureException;
import io.tether.core.UncategorizedDataAccessException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ErrorTranslatorTest {

	private static final String SQL = "insert into t (id) values ($1)";

	/** {@code driver, sqlState, code, R2DBC exception type -> translated type, transient, retryable}. */
	static Stream<Arguments> table() {
		return Stream.of(
				// PostgreSQL (code always 0); its R2DBC subclass is often not the right one, the SQLState is
				row("PG duplicate key", "23505", 0, Type.INTEGRITY, DuplicateKeyException.class),
				row("PG foreign key", "23503", 0, Type.INTEGRITY, DataIntegrityViolationException.class),
				row("PG not null", "23502", 0, Type.INTEGRITY, DataIntegrityViolationException.class),
				row("PG value too long (reported as bad grammar)", "22001", 0, Type.GRAMMAR, DataIntegrityViolationException.class),
				row("PG syntax error", "42601", 0, Type.GRAMMAR, BadSqlGrammarException.class),
				row("PG undefined table", "42P01", 0, Type.GRAMMAR, BadSqlGrammarException.class),
				row("PG undefined column", "42703", 0, Type.GRAMMAR, BadSqlGrammarException.class),
				row("PG insufficient privilege", "42501", 0, Type.PERMISSION, PermissionDeniedException.class),
				row("PG password authentication failed", "28P01", 0, Type.PERMISSION, PermissionDeniedException.class),
				row("PG statement timeout (reported as non-transient resource)", "57014", 0, Type.RESOURCE, QueryTimeoutException.class),
				row("PG lock timeout (reported as non-transient resource)", "55P03", 0, Type.RESOURCE, ConcurrencyFailureException.class),
				row("PG serialization failure", "40001", 0, Type.ROLLBACK, SerializationFailureException.class),
				row("PG deadlock", "40P01", 0, Type.ROLLBACK, DeadlockException.class),
				row("PG constraint violated at commit", "40002", 0, Type.ROLLBACK, DataIntegrityViolationException.class),
				row("PG statement completion unknown", "40003", 0, Type.ROLLBACK, ConcurrencyFailureException.class),
				row("PG connection failure", "08006", 0, Type.RESOURCE, ConnectionFailureException.class),
				row("PG admin shutdown", "57P01", 0, Type.RESOURCE, ConnectionFailureException.class),
				row("PG unknown database (reported as non-transient resource)", "3D000", 0, Type.RESOURCE,
						io.tether.core.NonTransientConnectionException.class),
				row("H2 database not found (IFEXISTS)", "90146", 90146, Type.RESOURCE,
						io.tether.core.NonTransientConnectionException.class),
				row("PG cannot connect now", "57P03", 0, Type.RESOURCE, ConnectionFailureException.class),
				row("PG too many connections", "53300", 0, Type.RESOURCE, ConnectionFailureException.class),
				row("PG internal error", "XX000", 0, Type.PLAIN, UncategorizedDataAccessException.class),
				row("PG in failed transaction", "25P02", 0, Type.PLAIN, UncategorizedDataAccessException.class),
				// H2: the vendor code mostly repeats the state
				row("H2 duplicate key", "23505", 23505, Type.INTEGRITY, DuplicateKeyException.class),
				row("H2 referential integrity", "23506", 23506, Type.INTEGRITY, DataIntegrityViolationException.class),
				row("H2 syntax error", "42001", 42001, Type.GRAMMAR, BadSqlGrammarException.class),
				row("H2 table not found", "42S02", 42102, Type.GRAMMAR, BadSqlGrammarException.class),
				row("H2 column not found", "42S22", 42122, Type.GRAMMAR, BadSqlGrammarException.class),
				row("H2 deadlock", "40001", 40001, Type.ROLLBACK, DeadlockException.class),
				row("H2 lock timeout (reported as R2DBC timeout)", "HYT00", 50200, Type.TIMEOUT, ConcurrencyFailureException.class),
				row("H2 query timeout", "57014", 57014, Type.TIMEOUT, QueryTimeoutException.class),
				row("H2 not enough rights", "90096", 90096, Type.PLAIN, PermissionDeniedException.class),
				row("H2 wrong password", "28000", 28000, Type.PERMISSION, PermissionDeniedException.class),
				row("H2 concurrent update", "90131", 90131, Type.PLAIN, ConcurrencyFailureException.class),
				row("H2 database closed", "90098", 90098, Type.PLAIN, ConnectionFailureException.class),
				// MariaDB / MySQL: generic states refined by the vendor code
				row("MariaDB duplicate entry", "23000", 1062, Type.INTEGRITY, DuplicateKeyException.class),
				row("MariaDB foreign key", "23000", 1452, Type.INTEGRITY, DataIntegrityViolationException.class),
				row("MariaDB deadlock", "40001", 1213, Type.ROLLBACK, DeadlockException.class),
				row("MariaDB lock wait timeout", "HY000", 1205, Type.PLAIN, ConcurrencyFailureException.class),
				row("MariaDB syntax error", "42000", 1064, Type.GRAMMAR, BadSqlGrammarException.class),
				row("MariaDB no such table", "42S02", 1146, Type.GRAMMAR, BadSqlGrammarException.class),
				row("MariaDB table access denied", "42000", 1142, Type.GRAMMAR, PermissionDeniedException.class),
				row("MariaDB database access denied", "42000", 1044, Type.PERMISSION, PermissionDeniedException.class),
				row("MariaDB access denied for user", "28000", 1045, Type.PERMISSION, PermissionDeniedException.class),
				row("MariaDB statement timeout", "70100", 1969, Type.PLAIN, QueryTimeoutException.class),
				row("MariaDB connection killed", "70100", 1927, Type.PLAIN, ConnectionFailureException.class),
				row("MariaDB unknown error", "HY000", 1105, Type.PLAIN, UncategorizedDataAccessException.class),
				// no SQLState: the R2DBC subclass decides
				row("no state, integrity", null, 0, Type.INTEGRITY, DataIntegrityViolationException.class),
				row("no state, grammar", null, 0, Type.GRAMMAR, BadSqlGrammarException.class),
				row("no state, permission", null, 0, Type.PERMISSION, PermissionDeniedException.class),
				row("no state, timeout", null, 0, Type.TIMEOUT, QueryTimeoutException.class),
				row("no state, rollback", null, 0, Type.ROLLBACK, ConcurrencyFailureException.class),
				row("no state, transient resource", null, 0, Type.TRANSIENT_RESOURCE, ConnectionFailureException.class),
				row("no state, non-transient resource", null, 0, Type.RESOURCE, ConnectionFailureException.class),
				row("no state, plain", null, 0, Type.PLAIN, UncategorizedDataAccessException.class),
				row("no state, vendor code", null, 1062, Type.PLAIN, DuplicateKeyException.class),
				row("malformed state", "4", 0, Type.GRAMMAR, BadSqlGrammarException.class));
	}

	enum Type { INTEGRITY, GRAMMAR, PERMISSION, TIMEOUT, ROLLBACK, TRANSIENT_RESOURCE, RESOURCE, PLAIN }

	private static Arguments row(String name, String state, int code, Type type, Class<? extends DataAccessException> expected) {
		return arguments(name, state, code, type, expected);
	}

	private static R2dbcException exception(String message, String state, int code, Type type) {
		switch (type) {
			case INTEGRITY:
				return new R2dbcDataIntegrityViolationException(message, state, code);
			case GRAMMAR:
				return new R2dbcBadGrammarException(message, state, code);
			case PERMISSION:
				return new R2dbcPermissionDeniedException(message, state, code);
			case TIMEOUT:
				return new R2dbcTimeoutException(message, state, code);
			case ROLLBACK:
				return new R2dbcRollbackException(message, state, code);
			case TRANSIENT_RESOURCE:
				return new R2dbcTransientResourceException(message, state, code);
			case RESOURCE:
				return new R2dbcNonTransientResourceException(message, state, code);
			default:
				return new R2dbcNonTransientException(message, state, code) {
					private static final long serialVersionUID = 1L;
				};
		}
	}

	@ParameterizedTest(name = "{0}: {1}/{2} {3} -> {4}")
	@MethodSource("table")
	void classifies(String name, String state, int code, Type type, Class<? extends DataAccessException> expected) {
		R2dbcException driver = exception("the driver's message", state, code, type);

		Throwable translated = ErrorTranslator.translate(driver, SQL);

		assertThat(translated).isExactlyInstanceOf(expected).hasCause(driver);
		DataAccessException e = (DataAccessException) translated;
		assertThat(e.sqlState()).isEqualTo(state);
		assertThat(e.errorCode()).isEqualTo(code);
		assertThat(e.sql()).isEqualTo(SQL);
		assertThat(e.isTransient()).isEqualTo(QueryTimeoutException.class.isAssignableFrom(expected)
				|| ConcurrencyFailureException.class.isAssignableFrom(expected)
				|| ConnectionFailureException.class.isAssignableFrom(expected));
		assertThat(e.getMessage()).endsWith(": the driver's message [SQLState " + (state != null ? state : "n/a")
				+ ", code " + code + "] in SQL: " + SQL);
		assertThat(ErrorTranslator.isRetryable(e)).isEqualTo(expected == SerializationFailureException.class
				|| expected == DeadlockException.class);
		assertThat(ErrorTranslator.isRetryable(driver)).as("a raw driver exception is translated first")
				.isEqualTo(ErrorTranslator.isRetryable(e));
	}

	@Test
	void messageFormat() {
		Throwable e = ErrorTranslator.translate(new R2dbcDataIntegrityViolationException(
				"duplicate key value violates unique constraint \"t_pkey\"", "23505", 0), SQL);
		assertThat(e).hasMessage("Duplicate key: duplicate key value violates unique constraint \"t_pkey\""
				+ " [SQLState 23505, code 0] in SQL: insert into t (id) values ($1)");
		assertThat(ErrorTranslator.translate(new R2dbcTimeoutException("timed out"), null))
				.hasMessage("Query timeout: timed out [SQLState n/a, code 0]");
		assertThat(ErrorTranslator.translate(new R2dbcPermissionDeniedException(), null))
				.hasMessage("Permission denied: io.r2dbc.spi.R2dbcPermissionDeniedException [SQLState n/a, code 0]");
	}

	@Test
	void theSqlTheDriverReportsIsUsedWhenNoneIsGiven() {
		R2dbcBadGrammarException driver = new R2dbcBadGrammarException("syntax error", "42601", 0, "selec 1");
		assertThat(((DataAccessException) ErrorTranslator.translate(driver, null)).sql()).isEqualTo("selec 1");
		assertThat(((DataAccessException) ErrorTranslator.translate(driver, "select :x")).sql()).isEqualTo("select :x");
	}

	@Test
	void longSqlIsShortenedInTheMessageOnly() {
		String sql = "select 1" + " ".repeat(5000) + "from dual";
		DataAccessException e = (DataAccessException) ErrorTranslator.translate(
				new R2dbcBadGrammarException("bad", "42601", 0), sql);
		assertThat(e.sql()).isEqualTo(sql);
		assertThat(e.getMessage()).endsWith("... (" + sql.length() + " characters)").doesNotContain("from dual");
	}

	@Test
	void tetherAndApplicationExceptionsPassThroughUnchanged() {
		IllegalArgumentException iae = new IllegalArgumentException("user error");
		TetherException tether = new TetherException("scope error");
		MappingException mapping = new MappingException("mapping error");
		DuplicateKeyException translated = new DuplicateKeyException("dup", null, "23505", 0, SQL);
		assertThat(ErrorTranslator.translate(iae, SQL)).isSameAs(iae);
		assertThat(ErrorTranslator.translate(tether, SQL)).isSameAs(tether);
		assertThat(ErrorTranslator.translate(mapping, SQL)).isSameAs(mapping);
		assertThat(ErrorTranslator.translate(translated, "other sql")).isSameAs(translated);
		assertThat(ErrorTranslator.isRetryable(iae)).isFalse();
	}

	@Test
	void poolErrorsKeepThePoolMessageAndAClosedPoolIsNotTransient() {
		io.tether.pool.PoolStats stats = new io.tether.pool.PoolStats("p", 2, 2, 2, 0, 1, 10, 1, 0, 0, 0, 0);
		Throwable timeout = ErrorTranslator.translate(new io.tether.pool.PoolAcquireTimeoutException(
				"Connection not available: timed out after 2000ms (max=2, acquired=2, idle=0, pending=1)", stats), "select 1");
		assertThat(timeout).isInstanceOf(io.tether.core.ConnectionFailureException.class)
				.hasMessageStartingWith("Connection not available: timed out after 2000ms (max=2, acquired=2, idle=0, pending=1)")
				.hasMessageContaining("select 1")
				.hasCauseInstanceOf(io.tether.pool.PoolAcquireTimeoutException.class);
		assertThat(((io.tether.core.DataAccessException) timeout).isTransient()).isTrue();
		assertThat(ErrorTranslator.translate(new io.tether.pool.PoolClosedException("Pool 'p' is closed"), null))
				.isInstanceOf(io.tether.core.NonTransientConnectionException.class).hasMessage("Pool 'p' is closed");
		assertThat(ErrorTranslator.translate(new reactor.pool.PoolShutdownException("Pool has been shut down"), "select 1"))
				.isInstanceOf(io.tether.core.NonTransientConnectionException.class)
				.hasMessage("Pool has been shut down (for SQL: select 1)");
		assertThat(ErrorTranslator.translate(new io.tether.pool.PoolPendingLimitException("too many waiting", stats), null))
				.isInstanceOf(io.tether.core.ConnectionFailureException.class);
	}

	@Test
	void closedChannelsAndSocketErrorsAreConnectionFailures() {
		ClosedChannelException closed = new ClosedChannelException();
		assertThat(ErrorTranslator.translate(closed, SQL)).isExactlyInstanceOf(ConnectionFailureException.class)
				.hasCause(closed)
				.hasMessage("Connection failure: java.nio.channels.ClosedChannelException [SQLState n/a, code 0] in SQL: "
						+ SQL);
		ConnectException refused = new ConnectException("Connection refused");
		DataAccessException e = (DataAccessException) ErrorTranslator.translate(refused, null);
		assertThat(e).isExactlyInstanceOf(ConnectionFailureException.class)
				.hasMessage("Connection failure: Connection refused [SQLState n/a, code 0]");
		assertThat(e.isTransient()).isTrue();
		assertThat(e.sqlState()).isNull();
	}

	@Test
	void retryableOnlyForSerializationFailuresAndDeadlocks() {
		assertThat(ErrorTranslator.isRetryable(new SerializationFailureException("s", null, "40001", 0, SQL))).isTrue();
		assertThat(ErrorTranslator.isRetryable(new DeadlockException("d", null, "40P01", 0, SQL))).isTrue();
		assertThat(ErrorTranslator.isRetryable(new ConcurrencyFailureException("lock", null, "55P03", 0, SQL))).isFalse();
		assertThat(ErrorTranslator.isRetryable(new QueryTimeoutException("t", null, "57014", 0, SQL))).isFalse();
		assertThat(ErrorTranslator.isRetryable(new ConnectionFailureException("c", null, "08006", 0, SQL))).isFalse();
		assertThat(ErrorTranslator.isRetryable(new RuntimeException(new DeadlockException("d", null, "40P01", 0, SQL))))
				.as("causes are not examined").isFalse();
	}

	@Test
	void valuesTheServerQuotesAreRedactedInTheMessageAndTheCauseUnlessAskedFor() {
		R2dbcException pg = new R2dbcBadGrammarException("invalid input syntax for type integer: \"hunter2\"", "22P02", 0);
		Throwable redacted = ErrorTranslator.translate(pg, "select cast($1 as int)");
		assertThat(redacted).isInstanceOf(DataIntegrityViolationException.class)
				.hasMessage("Data integrity violation: invalid input syntax for type integer: \"?\" [SQLState 22P02, code 0]"
						+ " in SQL: select cast($1 as int)");
		assertThat(redacted.getCause()).isInstanceOf(RedactedServerException.class)
				.hasMessage(R2dbcBadGrammarException.class.getName() + ": invalid input syntax for type integer: \"?\"");
		assertThat(redacted.getCause().getStackTrace()).isEqualTo(pg.getStackTrace());
		assertThat(ErrorTranslator.translate(pg, "select cast($1 as int)", null, true))
				.hasMessageContaining("\"hunter2\"").hasCause(pg);

		R2dbcException mariadb = new R2dbcDataIntegrityViolationException("Duplicate entry 'alice@example.com' for key 'email'",
				"23000", 1062);
		assertThat(ErrorTranslator.translate(mariadb, SQL)).isInstanceOf(DuplicateKeyException.class)
				.hasMessageStartingWith("Duplicate key: Duplicate entry '?' for key '?' [SQLState 23000, code 1062]");
		R2dbcException bytes = new R2dbcDataIntegrityViolationException("invalid byte sequence for encoding \"UTF8\": 0xc3 0x28",
				"22021", 0);
		assertThat(ErrorTranslator.translate(bytes, SQL).getMessage()).contains("encoding \"?\": 0x??").doesNotContain("0xc3");

		// PostgreSQL's constraint violations quote names, not values: nothing to redact, the driver's exception stays.
		R2dbcException duplicate = new R2dbcDataIntegrityViolationException(
				"duplicate key value violates unique constraint \"users_email_key\"", "23505", 0);
		assertThat(ErrorTranslator.translate(duplicate, SQL)).hasMessageContaining("\"users_email_key\"").hasCause(duplicate);
	}

	@Test
	void aConnectionFailureNamesTheTransportsReason() {
		R2dbcNonTransientResourceException refused = new R2dbcNonTransientResourceException("Cannot connect to db:1", "08003", 0,
				(String) null, new ConnectException("Connection refused"));
		assertThat(ErrorTranslator.translate(refused, "select 1"))
				.isInstanceOf(ConnectionFailureException.class)
				.hasMessageStartingWith("Connection failure: Cannot connect to db:1 (java.net.ConnectException: Connection refused)");
	}
}
