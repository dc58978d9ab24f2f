package io.tether.core.internal;

import static io.tether.core.internal.TranslatedStatements.TIMEOUT;
import static io.tether.core.internal.TranslatedStatements.failure;
import static io.tether.core.internal.TranslatedStatements.outcome;
import static io.tether.core.internal.TranslatedStatements.run;
import static io.tether.core.internal.TranslatedStatements.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.EventExecutor;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.R2dbcException;
import io.tether.context.testing.Database;
import io.tether.context.testing.StandardErrorCapture;
import io.tether.core.BadSqlGrammarException;
import io.tether.core.ConcurrencyFailureException;
import io.tether.core.ConnectionFailureException;
import io.tether.core.DataAccessException;
import io.tether.core.DeadlockException;
import io.tether.core.DuplicateKeyException;
import io.tether.core.PermissionDeniedException;
import io.tether.core.QueryTimeoutException;
import io.tether.core.SerializationFailureException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpResources;

/** Provokes real errors with r2dbc-postgresql (no Tether API) and checks their translation. */
class PostgresErrorTranslationIT {

	private static final String TABLE = "tether_errtrans_pg";
	/** Roles are server-wide: one per run, dropped afterwards, so parallel runs on other databases do not share it. */
	private static final String ROLE = "tether_errtrans_noaccess_" + UUID.randomUUID().toString().substring(0, 8);
	private static final int SECRET_ID = 987_654;
	private static final String SECRET_TEXT = "secret-xyz";

	private final ConnectionFactory factory = ConnectionFactories.get(Database.postgresUrl());
	private final List<Connection> open = new ArrayList<>();

	@BeforeAll
	static void role() {
		ConnectionFactory f = ConnectionFactories.get(Database.postgresUrl());
		Connection c = Mono.from(f.create()).block(TIMEOUT);
		try {
			run(c, "create role " + ROLE + " nologin");
		}
		finally {
			Mono.from(c.close()).block(TIMEOUT);
		}
	}

	@BeforeEach
	void schema() {
		Connection c = connect();
		run(c, "drop table if exists " + TABLE);
		run(c, "create table " + TABLE + " (id int primary key, name text, balance int not null default 0)");
		run(c, "insert into " + TABLE + " (id, name) values ($1, $2)", SECRET_ID, SECRET_TEXT);
		run(c, "insert into " + TABLE + " (id, name) values (1, 'one')");
	}

	@AfterEach
	void close() {
		for (Connection c : open) {
			Mono.from(c.close()).onErrorResume(e -> Mono.empty()).block(TIMEOUT);
		}
	}

	@AfterAll
	static void drop() {
		ConnectionFactory f = ConnectionFactories.get(Database.postgresUrl());
		Connection c = Mono.from(f.create()).block(TIMEOUT);
		try {
			run(c, "drop table if exists " + TABLE);
			run(c, "drop role if exists " + ROLE);
		}
		finally {
			Mono.from(c.close()).block(TIMEOUT);
		}
	}

	@Test
	void duplicateKey() {
		String sql = "insert into " + TABLE + " (id, name) values ($1, $2)";
		Throwable e = failure(connect(), sql, SECRET_ID, SECRET_TEXT);
		assertTranslated(e, DuplicateKeyException.class, "23505", sql, false);
		assertThat(e).hasMessage("Duplicate key: duplicate key value violates unique constraint \"" + TABLE
				+ "_pkey\" [SQLState 23505, code 0] in SQL: " + sql);
	}

	@Test
	void syntaxError() {
		String sql = "selec name from " + TABLE + " where id = $1";
		Throwable e = failure(connect(), sql, SECRET_ID);
		assertTranslated(e, BadSqlGrammarException.class, "42601", sql, false);
	}

	@Test
	void missingTable() {
		String sql = "select * from tether_errtrans_no_such_table where id = $1";
		Throwable e = failure(connect(), sql, SECRET_ID);
		assertTranslated(e, BadSqlGrammarException.class, "42P01", sql, false);
	}

	@Test
	void permissionDenied() {
		Connection c = connect();
		run(c, "set role " + ROLE);
		String sql = "select name from " + TABLE + " where id = $1";
		Throwable e = failure(c, sql, SECRET_ID);
		assertTranslated(e, PermissionDeniedException.class, "42501", sql, false);
	}

	@Test
	void serializationFailureOfAWriteSkewIsRetryable() {
		Connection a = connect();
		Connection b = connect();
		Mono.from(a.beginTransaction(IsolationLevel.SERIALIZABLE)).block(TIMEOUT);
		Mono.from(b.beginTransaction(IsolationLevel.SERIALIZABLE)).block(TIMEOUT);
		String sum = "select sum(balance) from " + TABLE;
		run(a, sum);
		run(b, sum);
		// Each moves money based on a total the other one is changing: no serial order explains both.
		String withdraw = "update " + TABLE + " set balance = balance - $1 where id = $2";
		run(a, withdraw, SECRET_ID, 1);
		run(b, withdraw, SECRET_ID, SECRET_ID);
		run(a, "commit");
		Throwable e = failure(b, "commit");
		assertTranslated(e, SerializationFailureException.class, "40001", "commit", true);
		assertThat(ErrorTranslator.isRetryable(e)).isTrue();
	}

	@Test
	void deadlockIsRetryable() {
		Connection a = connect();
		Connection b = connect();
		Mono.from(a.beginTransaction()).block(TIMEOUT);
		Mono.from(b.beginTransaction()).block(TIMEOUT);
		String sql = "update " + TABLE + " set name = $2 where id = $1";
		run(a, sql, 1, SECRET_TEXT);
		run(b, sql, SECRET_ID, SECRET_TEXT);
		// Opposite lock order; PostgreSQL aborts one of them after deadlock_timeout (1 s by default).
		List<Throwable> failures = Flux.merge(outcome(update(a, sql, SECRET_ID, SECRET_TEXT)),
						outcome(update(b, sql, 1, SECRET_TEXT)))
				.collectList().block(TIMEOUT);
		assertThat(failures).as("exactly one side is chosen as the deadlock victim").hasSize(1);
		Throwable e = failures.get(0);
		assertTranslated(e, DeadlockException.class, "40P01", sql, true);
		assertThat(ErrorTranslator.isRetryable(e)).isTrue();
	}

	@Test
	void statementTimeout() {
		Connection c = connect();
		run(c, "set statement_timeout = 50");
		String sql = "select pg_sleep(1) from " + TABLE + " where id = $1";
		Throwable e = failure(c, sql, SECRET_ID);
		assertTranslated(e, QueryTimeoutException.class, "57014", sql, true);
		assertThat(e.getCause()).as("r2dbc-postgresql calls this a non-transient resource failure")
				.isInstanceOf(io.r2dbc.spi.R2dbcNonTransientResourceException.class);
		assertThat(ErrorTranslator.isRetryable(e)).isFalse();
	}

	@Test
	void lockTimeoutIsTransientButNotRetryable() {
		Connection a = connect();
		Connection b = connect();
		Mono.from(a.beginTransaction()).block(TIMEOUT);
		String sql = "update " + TABLE + " set name = $2 where id = $1";
		run(a, sql, SECRET_ID, "a");
		run(b, "set lock_timeout = 50");
		Throwable e = failure(b, sql, SECRET_ID, SECRET_TEXT);
		assertTranslated(e, ConcurrencyFailureException.class, "55P03", sql, true);
		assertThat(e).isExactlyInstanceOf(ConcurrencyFailureException.class).hasMessageStartingWith("Lock not available: ");
		assertThat(ErrorTranslator.isRetryable(e)).isFalse();
	}

	/**
	 * The driver may log the dead connection itself, depending on when it notices: nothing (it saw the server's
	 * FATAL and the close first), a WARN "Connection Error" (the query's write failed on the closed channel), an
	 * ERROR "Connection Error" (a read failed with "Connection reset by peer"), or an onErrorDropped ERROR from
	 * its own {@code BackendMessageSubscriber} (that read error arriving after the subscriber had terminated).
	 * In 150 repetitions each appeared a few times. They are expected here: captured without reaching the
	 * console and asserted, and nothing else may be logged meanwhile.
	 */
	@Test
	void terminatedConnectionIsAConnectionFailure() {
		Throwable e;
		List<String> logged;
		try (StandardErrorCapture err = StandardErrorCapture.quiet()) {
			Connection victim = connect();
			Integer pid = Flux.from(victim.createStatement("select pg_backend_pid()").execute())
					.flatMap(r -> r.map((row, md) -> row.get(0, Integer.class))).single().block(TIMEOUT);
			run(connect(), "select pg_terminate_backend($1)", pid);
			// No bind value here: r2dbc-postgresql 1.1.1 leaks the encoded parameters of a statement it cannot send.
			String sql = "select name from " + TABLE;
			e = failure(victim, sql);
			Mono.from(victim.close()).onErrorResume(closeError -> Mono.empty()).block(TIMEOUT);
			driverEventLoopsDone();
			logged = err.records();
		}
		assertThat(e).isInstanceOf(ConnectionFailureException.class).hasCauseInstanceOf(R2dbcException.class);
		assertThat(((DataAccessException) e).isTransient()).isTrue();
		assertThat(((DataAccessException) e).sqlState()).isIn("57P01", "08006", null);
		assertThat(ErrorTranslator.isRetryable(e)).isFalse();
		assertThat(logged).as("what was logged while the connection died").allSatisfy(record -> assertThat(record)
				.satisfiesAnyOf(
						r -> assertThat(r).containsPattern("^(\\S+ )?\\[[^\\]]*\\] (WARN|ERROR) "
								+ "io\\.r2dbc\\.postgresql\\.client\\.ReactorNettyClient - Connection Error(\\n|$)"),
						r -> assertThat(r).containsPattern("^(\\S+ )?\\[[^\\]]*\\] ERROR reactor\\.core\\.publisher\\.Operators "
								+ "- Operator called default onErrorDropped(\\n|$)").contains("Connection reset by peer")));
	}

	// ---- plumbing -----------------------------------------------------------------------------------------

	private static void assertTranslated(Throwable e, Class<? extends DataAccessException> type, String sqlState,
			String sql, boolean isTransient) {
		assertThat(e).isInstanceOf(type).hasCauseInstanceOf(R2dbcException.class);
		DataAccessException translated = (DataAccessException) e;
		assertThat(translated.sqlState()).isEqualTo(sqlState);
		assertThat(translated.errorCode()).isZero();
		assertThat(translated.sql()).isEqualTo(sql);
		assertThat(translated.isTransient()).isEqualTo(isTransient);
		assertThat(translated.getMessage())
				.contains("[SQLState " + sqlState + ", code 0] in SQL: " + sql)
				.doesNotContain(String.valueOf(SECRET_ID))
				.doesNotContain(SECRET_TEXT);
	}

	/**
	 * Returns once the driver's event loops have run every task queued so far: the driver logs a connection
	 * error on its event loop, in the task that also fails the statement, so after the connection's close this
	 * leaves nothing of this test still to be logged.
	 */
	private static void driverEventLoopsDone() {
		for (EventExecutor loop : TcpResources.get().onClient(LoopResources.DEFAULT_NATIVE)) {
			loop.submit(() -> {
			}).syncUninterruptibly();
		}
	}

	private Connection connect() {
		Connection c = Mono.from(factory.create()).block(TIMEOUT);
		open.add(c);
		return c;
	}
}
