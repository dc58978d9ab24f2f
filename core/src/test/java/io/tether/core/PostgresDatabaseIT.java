package io.tether.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.IsolationLevel;
import io.tether.context.TransactionOptions;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * What only a real PostgreSQL server shows: a cancelled large streaming result must not wedge the pooled
 * connection for its next user (r2dbc-postgresql #661), a real serialization failure is retried, and a
 * statement timeout is reported as a transient {@link QueryTimeoutException}.
 */
class PostgresDatabaseIT {

	static final Duration TIMEOUT = Duration.ofSeconds(30);

	ConnectionPool pool;
	CountingConnectionFactory counting;
	Database db;
	String table;

	@BeforeEach
	void open() {
		pool = io.tether.context.testing.Database.POSTGRES.pool(1);
		counting = new CountingConnectionFactory(pool);
		db = Database.builder(counting).name("postgres").build();
		table = "oncall_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
	}

	@AfterEach
	void close() {
		try {
			Leaks.assertAllReleased(counting, pool);
		}
		finally {
			db.sql("drop table if exists " + table).then().block(TIMEOUT);
			pool.disposeLater().block(TIMEOUT);
		}
	}

	@RepeatedTest(5)
	void aCancelledStreamOfMoreThan256RowsLeavesTheOnlyPooledConnectionUsable() {
		// More rows than r2dbc-postgresql's internal demand, so the server is still sending when we cancel.
		db.sql("select g from generate_series(1, 100000) g").mapTo(Integer.class).all().take(300).count()
				.as(StepVerifier::create).expectNext(300L).verifyComplete();
		db.sql("select 42").mapTo(Integer.class).one().as(StepVerifier::create).expectNext(42).expectComplete().verify(TIMEOUT);

		db.sql("select g from generate_series(1, 100000) g").mapTo(Integer.class).all()
				.as(flux -> StepVerifier.create(flux, 1)).expectNext(1).thenCancel().verify(TIMEOUT);
		db.sql("select count(*) from generate_series(1, 1000)").mapTo(Long.class).one()
				.as(StepVerifier::create).expectNext(1000L).expectComplete().verify(TIMEOUT);
	}

	@Test
	void aCancelledStreamInsideAScopeLeavesItsConnectionUsable() {
		db.inConnection(db.sql("select g from generate_series(1, 100000) g").mapTo(Integer.class).all().take(300).count()
						.then(db.sql("select 7").mapTo(Integer.class).one()))
				.as(StepVerifier::create).expectNext(7).expectComplete().verify(TIMEOUT);
	}

	@Test
	void aStatementTimeoutIsATransientQueryTimeout() {
		TransactionOptions quick = TransactionOptions.builder().statementTimeout(Duration.ofMillis(100)).build();
		db.inTransaction(quick, db.sql("select pg_sleep(5)").then())
				.as(StepVerifier::create)
				.expectErrorSatisfies(e -> {
					assertThat(e).isInstanceOf(QueryTimeoutException.class);
					assertThat(((DataAccessException) e).sqlState()).isEqualTo("57014");
					assertThat(((DataAccessException) e).isTransient()).isTrue();
				})
				.verify(TIMEOUT);
	}

	@Test
	void theDefaultConflictPolicyRetriesSerializationFailuresReportedByTheServer() {
		AtomicInteger attempts = new AtomicInteger();
		Mono<Integer> body = Mono.defer(() -> attempts.incrementAndGet() < 3
				? db.sql("DO $$ BEGIN RAISE EXCEPTION 'forced conflict' USING ERRCODE = '40001'; END $$").then().thenReturn(0)
				: db.sql("select :n").bind("n", attempts.get()).mapTo(Integer.class).one());
		db.inTransaction(TransactionOptions.defaults(), RetryPolicy.onConflict(3).backoff(Duration.ofMillis(1), Duration.ofMillis(10)), body)
				.as(StepVerifier::create).expectNext(3).verifyComplete();
		assertThat(attempts).hasValue(3);
	}

	@Test
	void withoutARetryPolicyASerializationFailureReachesTheCaller() {
		db.inTransaction(db.sql("DO $$ BEGIN RAISE EXCEPTION 'forced conflict' USING ERRCODE = '40001'; END $$").then())
				.as(StepVerifier::create)
				.expectErrorSatisfies(e -> {
					assertThat(e).isInstanceOf(SerializationFailureException.class);
					assertThat(((DataAccessException) e).isTransient()).isTrue();
				})
				.verify(TIMEOUT);
	}

	/**
	 * The doctors-on-call write skew: two SERIALIZABLE transactions each see two doctors on call and take
	 * one off. PostgreSQL aborts one with 40001; retried, it sees one doctor left and changes nothing.
	 */
	@Test
	void aRealWriteSkewIsResolvedByRetryingTheLoser() {
		ConnectionPool bigger = io.tether.context.testing.Database.POSTGRES.pool(4);
		CountingConnectionFactory countingBigger = new CountingConnectionFactory(bigger);
		Database db2 = Database.builder(countingBigger).name("postgres-4").build();
		try {
			db2.sql("create table " + table + " (id int primary key, on_call boolean not null)").then()
					.then(db2.sql("insert into " + table + " values (1, true), (2, true)").then()).block(TIMEOUT);
			AtomicInteger reads = new AtomicInteger();
			AtomicInteger attempts = new AtomicInteger();
			Sinks.Empty<Void> bothRead = Sinks.empty();
			// The loser's retry reads only once the winner has committed: a retry that read the old snapshot
			// would conflict again, so the number of attempts would depend on timing.
			Sinks.Empty<Void> winnerCommitted = Sinks.empty();
			TransactionOptions serializable = TransactionOptions.builder().isolationLevel(IsolationLevel.SERIALIZABLE).build();
			RetryPolicy retry = RetryPolicy.onConflict(5).backoff(Duration.ofMillis(5), Duration.ofMillis(50));
			java.util.function.IntFunction<Mono<Long>> goOffCall = id -> db2.inTransaction(serializable, retry, Mono.defer(() -> {
				Mono<Void> turn = attempts.incrementAndGet() <= 2 ? Mono.empty() : winnerCommitted.asMono();
				return turn.then(db2.sql("select count(*) from " + table + " where on_call").mapTo(Long.class).one())
						.flatMap(onCall -> {
							if (reads.incrementAndGet() == 2) {
								bothRead.tryEmitEmpty();
							}
							return bothRead.asMono().then(onCall >= 2
									? db2.sql("update " + table + " set on_call = false where id = :id").bind("id", id).rowsUpdated()
									: Mono.just(0L));
						});
			})).doOnSuccess(updated -> winnerCommitted.tryEmitEmpty());
			Mono.zip(goOffCall.apply(1), goOffCall.apply(2), Long::sum)
					.as(StepVerifier::create).expectNext(1L).expectComplete().verify(TIMEOUT);
			assertThat(attempts).as("the loser ran again").hasValue(3);
			db2.sql("select count(*) from " + table + " where on_call").mapTo(Long.class).one()
					.as(StepVerifier::create).expectNext(1L).verifyComplete();
		}
		finally {
			db2.sql("drop table if exists " + table).then().block(TIMEOUT);
			Leaks.assertAllReleased(countingBigger, bigger);
			bigger.disposeLater().block(TIMEOUT);
		}
	}
}
