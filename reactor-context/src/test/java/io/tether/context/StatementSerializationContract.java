package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Several statements at once on one bound connection: they all run, on that one connection, one after
 * another in subscription order, without hanging and without the driver's own queue ever seeing two at a
 * time; back-pressure and cancellation keep working. Every test ends with acquisitions == releases.
 */
abstract class StatementSerializationContract extends DatabaseContract {

	private static final Duration HANG_LIMIT = Duration.ofSeconds(60);
	// For a case whose raw-driver control completes in milliseconds: a hang fails without stalling the build.
	private static final Duration SHORT_HANG_LIMIT = Duration.ofSeconds(15);
	private static final int ROWS = 1_000;

	/** Fills the table with rows (i, 'r' || i) for i in 1..n, in one statement. */
	private void fill(int n) {
		String series = switch (database()) {
			case H2 -> "SELECT X, 'r' || X FROM SYSTEM_RANGE(1, " + n + ")";
			case POSTGRES -> "SELECT g, 'r' || g FROM generate_series(1, " + n + ") g";
		};
		scope.withConnection(c -> update(c, "INSERT INTO " + table + " (id, v) " + series))
				.as(StepVerifier::create).expectNext((long) n).verifyComplete();
	}

	/**
	 * Appends a row whose id is one more than the largest so far: the ids record the order in which the
	 * statements actually executed, whatever order they were created or subscribed in.
	 */
	private Mono<Long> append(String label) {
		return scope.withConnection(c -> update(c, "INSERT INTO " + table + " (id, v) SELECT COALESCE(MAX(id), 0) + 1, '"
				+ label + "' FROM " + table));
	}

	private List<String> labelsInExecutionOrder() {
		return scope.withConnection(c -> query(c, "SELECT v FROM " + table + " ORDER BY id", String.class).collectList())
				.block(HANG_LIMIT);
	}

	private static List<String> labels(String prefix, int n) {
		return IntStream.rangeClosed(1, n).mapToObj(i -> prefix + i).toList();
	}

	private Mono<Integer> sessionId() {
		return scope.withConnection(c -> query(c, database().sessionIdSql(), Number.class).single().map(Number::intValue));
	}

	private Mono<Integer> count() {
		return scope.withConnection(c -> query(c, "SELECT COUNT(*) FROM " + table, Number.class).single()
				.map(Number::intValue));
	}

	/** Statements subscribed together by {@code merge} run on the scope's one connection, in subscription order. */
	@Test
	void mergedStatementsRunOnOneConnectionInSubscriptionOrder() {
		int before = counting.acquired();
		scope.inConnection(Flux.merge(append("m1"), append("m2"), append("m3"), append("m4"), append("m5")))
				.as(StepVerifier::create).expectNext(1L, 1L, 1L, 1L, 1L).expectComplete().verify(HANG_LIMIT);

		assertThat(counting.acquired() - before).as("connections acquired by the scope").isEqualTo(1);
		assertThat(counting.connectionsRunning("'m")).as("connections that ran the merged statements").hasSize(1);
		assertThat(labelsInExecutionOrder()).containsExactlyElementsOf(labels("m", 5));
	}

	/** Statements subscribed together by {@code zip} run on one connection, in subscription order. */
	@Test
	void zippedStatementsRunOnOneConnectionInSubscriptionOrder() {
		int before = counting.acquired();
		scope.inConnection(Mono.zip(append("z1"), append("z2"), append("z3"), append("z4")))
				.as(StepVerifier::create)
				.assertNext(t -> assertThat(List.of(t.getT1(), t.getT2(), t.getT3(), t.getT4())).containsOnly(1L))
				.expectComplete().verify(HANG_LIMIT);

		assertThat(counting.acquired() - before).isEqualTo(1);
		assertThat(counting.connectionsRunning("'z")).hasSize(1);
		assertThat(labelsInExecutionOrder()).containsExactlyElementsOf(labels("z", 4));
	}

	/** Session ids read by zipped statements of one scope are all the same server session. */
	@Test
	void zippedStatementsSeeOneServerSession() {
		scope.inConnection(Mono.zip(sessionId(), sessionId(), sessionId()))
				.as(StepVerifier::create)
				.assertNext(t -> assertThat(t.getT2()).isEqualTo(t.getT1()).isEqualTo(t.getT3()))
				.expectComplete().verify(HANG_LIMIT);
	}

	/** {@code flatMap} subscribes its inner statements eagerly; they run on one connection in that order. */
	@Test
	void flatMappedStatementsRunOnOneConnectionInSubscriptionOrder() {
		int before = counting.acquired();
		scope.inConnection(Flux.range(1, 50).flatMap(i -> append("f" + i)).count())
				.as(StepVerifier::create).expectNext(50L).expectComplete().verify(HANG_LIMIT);

		assertThat(counting.acquired() - before).isEqualTo(1);
		assertThat(counting.connectionsRunning("'f")).hasSize(1);
		assertThat(labelsInExecutionOrder()).containsExactlyElementsOf(labels("f", 50));
	}

	/**
	 * The key case: a query per row of a 1,000-row query still streaming on the same bound connection
	 * (inner {@code withConnection} inside {@code flatMap}) neither hangs nor trips the driver; all 1,000
	 * inner results arrive, on one connection.
	 */
	@Test
	void queryPerRowOfAStreamingQueryOnTheSameConnectionCompletes() {
		fill(ROWS);
		int before = counting.acquired();
		Flux<String> joined = scope.inConnection(
				scope.withConnectionMany(c -> query(c, "SELECT id FROM " + table + " /* outer */ ORDER BY id", Integer.class))
						.flatMap(id -> scope.withConnection(c -> query(c,
								"SELECT v FROM " + table + " /* inner */ WHERE id = " + id, String.class).single())
								.map(v -> id + "=" + v)));

		joined.collectList().as(StepVerifier::create)
				.assertNext(this::assertEveryRowJoined)
				.expectComplete().verify(HANG_LIMIT);

		assertThat(counting.acquired() - before).as("connections acquired by the scope").isEqualTo(1);
		assertThat(counting.connectionsRunning("/* outer */")).hasSize(1)
				.isEqualTo(counting.connectionsRunning("/* inner */"));
	}

	/** The key case with the inner query run on the very connection object the outer function was given. */
	@Test
	void queryPerRowOnTheOuterFunctionsConnectionCompletes() {
		fill(ROWS);
		int before = counting.acquired();
		Flux<String> joined = scope.inConnection(scope.withConnectionMany(c ->
				query(c, "SELECT id FROM " + table + " /* outer */ ORDER BY id", Integer.class)
						.flatMap(id -> query(c, "SELECT v FROM " + table + " /* inner */ WHERE id = " + id, String.class)
								.single()
								.map(v -> id + "=" + v))));

		joined.collectList().as(StepVerifier::create)
				.assertNext(this::assertEveryRowJoined)
				.expectComplete().verify(HANG_LIMIT);

		assertThat(counting.acquired() - before).isEqualTo(1);
		assertThat(counting.connectionsRunning("/* outer */")).hasSize(1)
				.isEqualTo(counting.connectionsRunning("/* inner */"));
	}

	/** The key case inside a transaction: the nested queries run in it, and it commits. */
	@Test
	void queryPerRowOfAStreamingQueryInATransactionCompletesAndCommits() {
		fill(ROWS);
		Flux<Long> updates = scope.inTransaction(
				scope.withConnectionMany(c -> query(c, "SELECT id FROM " + table + " /* outer */ ORDER BY id", Integer.class))
						.flatMap(id -> scope.withConnection(c -> update(c,
								"UPDATE " + table + " /* inner */ SET v = 'u" + id + "' WHERE id = " + id))));

		updates.count().as(StepVerifier::create).expectNext((long) ROWS).expectComplete().verify(HANG_LIMIT);

		assertThat(counting.connectionsRunning("/* inner */")).hasSize(1);
		scope.withConnection(c -> query(c, "SELECT COUNT(*) FROM " + table + " WHERE v = 'u' || id", Number.class)
						.single().map(Number::intValue))
				.as(StepVerifier::create).expectNext(ROWS).verifyComplete();
	}

	/**
	 * A query issued from the function given to {@code Result.flatMap}, on the same connection, completes:
	 * the raw driver does it (control), and a bound connection must not turn it into a hang.
	 */
	@Test
	void queryInsideResultFlatMapOnTheSameConnectionCompletes() {
		fill(10);
		Function<Connection, Flux<Integer>> tenTimesEachId = c ->
				Flux.from(c.createStatement("SELECT id FROM " + table + " ORDER BY id").execute())
						.flatMap(r -> r.flatMap(segment -> segment instanceof Result.RowSegment row
								? query(c, "SELECT " + row.row().get(0, Integer.class) + " * 10", Integer.class)
								: Mono.empty()));
		List<Integer> expected = IntStream.rangeClosed(1, 10).map(i -> i * 10).boxed().toList();

		// timeout() rather than only verify(limit): it cancels a hung pipeline, so the scope still releases.
		Flux.usingWhen(counting.create(), tenTimesEachId, Connection::close)
				.collectList().timeout(SHORT_HANG_LIMIT).as(StepVerifier::create)
				.assertNext(l -> assertThat(l).as("raw driver").containsExactlyInAnyOrderElementsOf(expected))
				.expectComplete().verify(HANG_LIMIT);

		scope.inConnection(scope.withConnectionMany(tenTimesEachId))
				.collectList().timeout(SHORT_HANG_LIMIT).as(StepVerifier::create)
				.assertNext(l -> assertThat(l).as("bound connection").containsExactlyInAnyOrderElementsOf(expected))
				.expectComplete().verify(HANG_LIMIT);
	}

	/**
	 * Subscribes to a statement with a subscriber that cancels within {@code onSubscribe}, as Reactive
	 * Streams allows (and as {@code takeUntilOther} or {@code firstWithSignal} do when they have already won).
	 */
	private static Mono<Void> cancelledDuringSubscribe(Connection c, String sql) {
		return Mono.fromRunnable(() -> c.createStatement(sql).execute().subscribe(new BaseSubscriber<Result>() {
			@Override
			protected void hookOnSubscribe(Subscription subscription) {
				cancel();
			}
		}));
	}

	/** A statement cancelled within {@code onSubscribe} leaves the connection free: the next statement runs. */
	@Test
	void statementCancelledDuringSubscribeLeavesTheConnectionFree() {
		scope.inConnection(scope.withConnection(c -> cancelledDuringSubscribe(c, "SELECT 1")
						.then(query(c, "SELECT 2", Integer.class).single())))
				.timeout(SHORT_HANG_LIMIT)
				.as(StepVerifier::create).expectNext(2).expectComplete().verify(HANG_LIMIT);
	}

	/**
	 * The same inside a transaction: the statement after it and the COMMIT run; and if they could not, the
	 * cancel by {@code timeout} would still have to release the connection (the {@code @AfterEach} leak
	 * check).
	 */
	@Test
	void statementCancelledDuringSubscribeInATransactionLetsItCommit() {
		scope.inTransaction(scope.withConnection(c -> cancelledDuringSubscribe(c, "SELECT 1")
						.then(update(c, "INSERT INTO " + table + " VALUES (1, 'a')"))))
				.timeout(SHORT_HANG_LIMIT)
				.as(StepVerifier::create).expectNext(1L).expectComplete().verify(HANG_LIMIT);
		count().as(StepVerifier::create).expectNext(1).expectComplete().verify(HANG_LIMIT);
	}

	/**
	 * Without contention a bound connection passes the downstream's demand through: a 1,000-row query read
	 * 10 rows at a time maps only a small part of the rows; cancelling releases the connection, and the
	 * pool serves the next statement.
	 */
	@Test
	void backPressureIsHonouredWithoutContentionAndCancelReleases() {
		fill(ROWS);
		AtomicInteger mapped = new AtomicInteger();
		Flux<Integer> rows = scope.inConnection(scope.withConnectionMany(c ->
				Flux.from(c.createStatement("SELECT id FROM " + table + " ORDER BY id").execute())
						.flatMap(r -> r.map((row, md) -> {
							mapped.incrementAndGet();
							return row.get(0, Integer.class);
						}))));

		StepVerifier.create(rows, 0)
				.expectSubscription()
				.thenRequest(10)
				.expectNext(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
				.then(() -> assertThat(mapped.get()).as("rows mapped after 10 were requested").isLessThan(ROWS))
				.thenRequest(5)
				.expectNext(11, 12, 13, 14, 15)
				.thenCancel()
				.verify(HANG_LIMIT);

		assertThat(mapped.get()).as("rows mapped in all").isLessThan(ROWS);
		Leaks.assertAllReleased(counting, pool);
		count().as(StepVerifier::create).expectNext(ROWS).expectComplete().verify(HANG_LIMIT);
	}

	/**
	 * Cancelling the outer streaming query while inner queries are queued behind it on the gate releases
	 * everything; afterwards every connection of the pool serves statements normally.
	 */
	@Test
	void cancelWhileInnerQueriesAreQueuedReleasesEverything() {
		fill(ROWS);
		AtomicInteger innerSubscribed = new AtomicInteger();
		AtomicInteger innerDone = new AtomicInteger();
		Flux<String> joined = scope.inConnection(
				scope.withConnectionMany(c -> query(c, "SELECT id FROM " + table + " ORDER BY id", Integer.class))
						.flatMap(id -> scope.withConnection(c -> query(c,
										"SELECT v FROM " + table + " WHERE id = " + id, String.class).single())
								.doOnSubscribe(s -> innerSubscribed.incrementAndGet())
								.doOnNext(v -> innerDone.incrementAndGet())));

		joined.as(StepVerifier::create)
				.expectNextCount(1)
				.thenCancel()
				.verify(HANG_LIMIT);

		assertThat(innerSubscribed.get()).as("inner queries subscribed (the rest were queued at the cancel)")
				.isGreaterThan(innerDone.get());
		Leaks.assertAllReleased(counting, pool);

		// More scopes at once than the pool has connections, so every pooled connection, including the one
		// returned by the cancel, serves a session-id query and a count.
		Flux.range(0, 8)
				.flatMap(i -> scope.inConnection(sessionId().then(count())))
				.collectList()
				.as(StepVerifier::create)
				.assertNext(counts -> assertThat(counts).hasSize(8).containsOnly(ROWS))
				.expectComplete().verify(HANG_LIMIT);
	}

	private void assertEveryRowJoined(List<String> pairs) {
		assertThat(pairs).hasSize(ROWS).doesNotHaveDuplicates();
		assertThat(pairs).allSatisfy(p -> {
			String[] kv = p.split("=");
			assertThat(kv[1]).isEqualTo("r" + kv[0]);
		});
	}
}
