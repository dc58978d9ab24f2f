package io.tether.core.internal;

import static io.tether.core.internal.TranslatedStatements.TIMEOUT;
import static io.tether.core.internal.TranslatedStatements.failure;
import static io.tether.core.internal.TranslatedStatements.outcome;
import static io.tether.core.internal.TranslatedStatements.run;
import static io.tether.core.internal.TranslatedStatements.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcException;
import io.tether.core.BadSqlGrammarException;
import io.tether.core.ConcurrencyFailureException;
import io.tether.core.DataAccessException;
import io.tether.core.DataIntegrityViolationException;
import io.tether.core.DeadlockException;
import io.tether.core.DuplicateKeyException;
import io.tether.core.PermissionDeniedException;
import io.tether.core.QueryTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Provokes real errors with r2dbc-h2 (no Tether API) and checks their translation. H2 quotes key values in
 * its constraint messages and appends the statement; neither may reach the translated message.
 *
 * <p>H2 has no serialization failure to provoke: its SERIALIZABLE level lets a write skew commit.
 */
class H2ErrorTranslationTest {

	private static final int SECRET_ID = 987_654;
	private static final String SECRET_TEXT = "secret-xyz";

	private final String database = "tether_errtrans_" + UUID.randomUUID().toString().replace("-", "");
	private final ConnectionFactory factory = ConnectionFactories.get("r2dbc:h2:mem:///" + database
			+ "?options=DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000");
	private final List<Connection> open = new ArrayList<>();

	@BeforeEach
	void schema() {
		Connection c = connect();
		run(c, "create table parent (id int primary key, name varchar(20))");
		run(c, "create table child (id int primary key, parent_id int references parent(id))");
		run(c, "insert into parent values ($1, $2)", SECRET_ID, SECRET_TEXT);
		run(c, "insert into parent values (1, 'one')");
	}

	@AfterEach
	void close() {
		for (Connection c : open) {
			Mono.from(c.close()).block(TIMEOUT);
		}
	}

	@Test
	void duplicateKey() {
		String sql = "insert into parent values ($1, $2)";
		Throwable e = failure(connect(), sql, SECRET_ID, SECRET_TEXT);
		assertTranslated(e, DuplicateKeyException.class, "23505", sql, false);
		assertThat(e.getMessage())
				.startsWith("Duplicate key: Unique index or primary key violation: \"PUBLIC.")
				.contains(" ON PUBLIC.PARENT(ID)\" [SQLState 23505, code 23505] in SQL: " + sql);
		assertThat(e.getCause()).as("H2 quotes the key: its exception is replaced by a redacted copy")
				.isInstanceOf(RedactedServerException.class);
		assertThat(((RedactedServerException) e.getCause()).originalClass()).startsWith("io.r2dbc.");
	}

	@Test
	void foreignKeyViolation() {
		String sql = "insert into child values ($1, $2)";
		Throwable e = failure(connect(), sql, 1, SECRET_ID + 1);
		assertTranslated(e, DataIntegrityViolationException.class, "23506", sql, false);
		assertThat(e.getMessage()).doesNotContain(String.valueOf(SECRET_ID + 1));
		assertThat(e.getCause()).isInstanceOf(RedactedServerException.class);
		assertThat(e.getCause().getMessage()).doesNotContain(String.valueOf(SECRET_ID + 1));
	}

	@Test
	void valueTooLong() {
		String sql = "insert into parent values ($1, $2)";
		Throwable e = failure(connect(), sql, 2, SECRET_TEXT.repeat(3));
		assertTranslated(e, DataIntegrityViolationException.class, "22001", sql, false);
		assertThat(e.getMessage()).startsWith("Data integrity violation: Value too long for column \"NAME CHARACTER"
				+ " VARYING(20)\" [SQLState 22001");
		assertThat(e.getCause()).isInstanceOf(RedactedServerException.class);
	}

	@Test
	void syntaxError() {
		String sql = "selec id from parent where name = $1";
		Throwable e = failure(connect(), sql, SECRET_TEXT);
		assertTranslated(e, BadSqlGrammarException.class, "42001", sql, false);
	}

	@Test
	void missingTable() {
		String sql = "select * from no_such_table where id = $1";
		Throwable e = failure(connect(), sql, SECRET_ID);
		assertTranslated(e, BadSqlGrammarException.class, "42S02", sql, false);
		assertThat(((DataAccessException) e).errorCode()).isEqualTo(42102);
		assertThat(e).hasMessage("Bad SQL grammar: Table \"NO_SUCH_TABLE\" not found [SQLState 42S02, code 42102]"
				+ " in SQL: " + sql);
	}

	@Test
	void permissionDenied() {
		run(connect(), "create user tether_reader password 'pw'");
		ConnectionFactory reader = ConnectionFactories.get("r2dbc:h2:mem://tether_reader:pw@/" + database);
		Connection c = track(Mono.from(reader.create()).block(TIMEOUT));
		String sql = "select * from parent where id = $1";
		Throwable e = failure(c, sql, SECRET_ID);
		assertTranslated(e, PermissionDeniedException.class, "90096", sql, false);
	}

	@Test
	void deadlockIsRetryable() {
		Connection a = connect();
		Connection b = connect();
		run(a, "set lock_timeout 20000");
		run(b, "set lock_timeout 20000");
		Mono.from(a.beginTransaction()).block(TIMEOUT);
		Mono.from(b.beginTransaction()).block(TIMEOUT);
		run(a, "update parent set name = 'a' where id = 1");
		run(b, "update parent set name = 'b' where id = $1", SECRET_ID);
		// r2dbc-h2 runs a statement on the subscribing thread, so each blocked update needs its own thread.
		String sqlA = "update parent set name = 'a' where id = $1";
		String sqlB = "update parent set name = 'b' where id = $1";
		List<Throwable> failures = Flux.merge(
						outcome(update(a, sqlA, SECRET_ID).subscribeOn(Schedulers.boundedElastic())),
						outcome(update(b, sqlB, 1).subscribeOn(Schedulers.boundedElastic())))
				.collectList().block(TIMEOUT);
		assertThat(failures).as("exactly one side is chosen as the deadlock victim").hasSize(1);
		Throwable e = failures.get(0);
		assertThat(e).isExactlyInstanceOf(DeadlockException.class);
		assertTranslated(e, DeadlockException.class, "40001", ((DataAccessException) e).sql(), true);
		assertThat(((DataAccessException) e).sql()).isIn(sqlA, sqlB);
		assertThat(ErrorTranslator.isRetryable(e)).isTrue();
	}

	@Test
	void lockTimeoutIsTransientButNotRetryable() {
		Connection a = connect();
		Connection b = connect();
		Mono.from(a.beginTransaction()).block(TIMEOUT);
		run(a, "update parent set name = 'a' where id = $1", SECRET_ID);
		run(b, "set lock_timeout 100");
		String sql = "update parent set name = $2 where id = $1";
		Throwable e = failure(b, sql, SECRET_ID, SECRET_TEXT);
		assertTranslated(e, ConcurrencyFailureException.class, "HYT00", sql, true);
		assertThat(e).isExactlyInstanceOf(ConcurrencyFailureException.class)
				.hasMessageStartingWith("Lock not available: ");
		assertThat(ErrorTranslator.isRetryable(e)).isFalse();
	}

	@Test
	void queryTimeout() {
		Connection c = connect();
		run(c, "set query_timeout 50");
		String sql = "select count(*) from system_range(1, 100000) a, system_range(1, 100000) b where a.x + b.x = $1";
		Throwable e = failure(c, sql, SECRET_ID);
		assertTranslated(e, QueryTimeoutException.class, "57014", sql, true);
		assertThat(ErrorTranslator.isRetryable(e)).isFalse();
	}

	// ---- plumbing -----------------------------------------------------------------------------------------

	static void assertTranslated(Throwable e, Class<? extends DataAccessException> type, String sqlState, String sql,
			boolean isTransient) {
		assertThat(e).isInstanceOf(type);
		// The driver's exception, or, where H2 quoted a value in a message of the chain, its redacted copy.
		assertThat(e.getCause()).satisfiesAnyOf(c -> assertThat(c).isInstanceOf(R2dbcException.class),
				c -> assertThat(c).isInstanceOf(RedactedServerException.class));
		java.io.StringWriter trace = new java.io.StringWriter();
		e.printStackTrace(new java.io.PrintWriter(trace));
		assertThat(trace.toString()).as("the stack trace with its causes")
				.doesNotContain(String.valueOf(SECRET_ID)).doesNotContain(SECRET_TEXT);
		DataAccessException translated = (DataAccessException) e;
		assertThat(translated.sqlState()).isEqualTo(sqlState);
		assertThat(translated.sql()).isEqualTo(sql);
		assertThat(translated.isTransient()).isEqualTo(isTransient);
		assertThat(translated.getMessage())
				.contains("[SQLState " + sqlState + ", code ")
				.endsWith(" in SQL: " + sql)
				.doesNotContain(String.valueOf(SECRET_ID))
				.doesNotContain(SECRET_TEXT)
				.doesNotContain("SQL statement:");
	}

	private Connection connect() {
		return track(Mono.from(factory.create()).block(TIMEOUT));
	}

	private Connection track(Connection c) {
		open.add(c);
		return c;
	}
}
