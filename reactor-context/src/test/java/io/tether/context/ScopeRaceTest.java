package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Database;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Signal;
import reactor.core.publisher.Sinks;
import reactor.test.subscriber.TestSubscriber;
import reactor.test.util.RaceTestUtils;
import reactor.util.context.ContextView;

/**
 * Races between the signals a scope has to cope with, each repeated many times with
 * {@link RaceTestUtils#race(Runnable, Runnable)}. After every round: every connection acquired was released
 * exactly once, the pool has nothing out, and nothing went to {@code onErrorDropped}.
 */
@Tag("race")
class ScopeRaceTest {

	private static final int ROUNDS = 500;
	private static final Duration LIMIT = Duration.ofSeconds(10);

	private ConnectionPool pool;
	private CountingConnectionFactory counting;
	private ConnectionScope scope;
	private String table;
	private int acquiredBySetUp;
	private final List<Throwable> dropped = new CopyOnWriteArrayList<>();

	@BeforeEach
	void setUp() {
		pool = Database.H2.pool(4);
		counting = new CountingConnectionFactory(pool);
		scope = ConnectionScope.builder(counting).name("h2-race").build();
		table = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
		scope.withConnection(c -> update(c, "CREATE TABLE " + table + " (id INT PRIMARY KEY)")).block(LIMIT);
		acquiredBySetUp = counting.acquired();
		Hooks.onErrorDropped(dropped::add);
	}

	@AfterEach
	void tearDown() {
		try {
			Leaks.assertAllReleased(counting, pool);
		}
		finally {
			Hooks.resetOnErrorDropped();
			pool.disposeLater().block(LIMIT);
		}
	}

	private void assertRoundClean(int round) {
		Leaks.assertAllReleased(counting, pool);
		assertThat(dropped).as("errors dropped in round %d", round).isEmpty();
	}

	private static void awaitTrue(BooleanSupplier condition, String what) {
		long deadline = System.nanoTime() + LIMIT.toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				fail("Timed out waiting until " + what);
			}
			Thread.onSpinWait();
		}
	}

	private Mono<Integer> rowCount() {
		return scope.withConnection(c -> query(c, "SELECT COUNT(*) FROM " + table, Number.class).single()
				.map(Number::intValue));
	}

	private Mono<Integer> sessionId() {
		return scope.withConnection(c -> query(c, Database.H2.sessionIdSql(), Number.class).single().map(Number::intValue));
	}

	/** A subscriber that was cancelled may or may not have received the result; it never gets an error. */
	private static <T> void assertCompletedWithOrCancelled(TestSubscriber<T> ts, List<T> expectedIfCompleted) {
		assertThat(ts.getProtocolErrors()).isEmpty();
		Signal<T> terminal = ts.getTerminalSignal();
		if (terminal != null) {
			assertThat(terminal.isOnComplete()).as("terminal signal %s", terminal).isTrue();
			assertThat(ts.getReceivedOnNext()).isEqualTo(expectedIfCompleted);
		}
		else {
			assertThat(ts.isCancelled()).isTrue();
		}
	}

	/** Cancel racing with the body's completion: released exactly once whichever wins. */
	@Test
	void cancelRacingWithBodyCompletionReleasesOnce() {
		for (int round = 0; round < ROUNDS; round++) {
			int value = round;
			Sinks.One<Integer> finish = Sinks.one();
			TestSubscriber<Integer> ts = TestSubscriber.create();
			scope.inConnection(sessionId().then(finish.asMono())).subscribe(ts);
			awaitTrue(() -> finish.currentSubscriberCount() > 0, "the body waits for its value");

			RaceTestUtils.race(() -> finish.tryEmitValue(value), ts::cancel);

			assertRoundClean(round);
			assertCompletedWithOrCancelled(ts, List.of(value));
		}
		assertThat(counting.acquired() - acquiredBySetUp).isEqualTo(ROUNDS);
	}

	/** Cancel racing with the body's completion inside a transaction: committed or rolled back, released once. */
	@Test
	void cancelRacingWithTransactionBodyCompletionReleasesOnce() {
		for (int round = 0; round < ROUNDS; round++) {
			Sinks.One<Integer> finish = Sinks.one();
			TestSubscriber<Integer> ts = TestSubscriber.create();
			scope.inTransaction(sessionId().then(finish.asMono())).subscribe(ts);
			awaitTrue(() -> finish.currentSubscriberCount() > 0, "the transaction body waits for its value");

			RaceTestUtils.race(() -> finish.tryEmitValue(1), ts::cancel);

			assertRoundClean(round);
			assertCompletedWithOrCancelled(ts, List.of(1));
		}
	}

	/**
	 * Cancel racing with the arrival of the connection being acquired: the acquisition is not abandoned,
	 * and the connection is released exactly once whether or not the body ran.
	 */
	@Test
	void cancelRacingWithAcquisitionArrivalReleasesOnce() {
		AtomicReference<Sinks.Empty<Void>> arrival = new AtomicReference<>();
		counting.beforeAcquire(() -> arrival.get().asMono());
		try {
			for (int round = 0; round < ROUNDS; round++) {
				Sinks.Empty<Void> arrive = Sinks.empty();
				arrival.set(arrive);
				AtomicInteger bodyRuns = new AtomicInteger();
				TestSubscriber<Integer> ts = TestSubscriber.create();
				scope.inConnection(Mono.fromRunnable(bodyRuns::incrementAndGet).then(Mono.just(7))).subscribe(ts);
				awaitTrue(() -> arrive.currentSubscriberCount() > 0, "the acquisition is held");

				RaceTestUtils.race(arrive::tryEmitEmpty, ts::cancel);

				assertRoundClean(round);
				assertThat(bodyRuns.get()).isLessThanOrEqualTo(1);
				assertCompletedWithOrCancelled(ts, List.of(7));
			}
		}
		finally {
			counting.beforeAcquire(Mono::empty);
		}
		assertThat(counting.acquired() - acquiredBySetUp).as("acquisitions completed despite the cancels").isEqualTo(ROUNDS);
	}

	/** Cancel racing with the end of BEGIN: rolled back or committed, released exactly once. */
	@Test
	void cancelRacingWithBeginArrivalReleasesOnce() {
		AtomicReference<Sinks.Empty<Void>> begun = new AtomicReference<>();
		counting.beforeBegin(() -> begun.get().asMono());
		try {
			for (int round = 0; round < ROUNDS; round++) {
				Sinks.Empty<Void> begin = Sinks.empty();
				begun.set(begin);
				TestSubscriber<Integer> ts = TestSubscriber.create();
				scope.inTransaction(sessionId().thenReturn(3)).subscribe(ts);
				awaitTrue(() -> begin.currentSubscriberCount() > 0, "BEGIN is held");

				RaceTestUtils.race(begin::tryEmitEmpty, ts::cancel);

				assertRoundClean(round);
				assertCompletedWithOrCancelled(ts, List.of(3));
			}
		}
		finally {
			counting.beforeBegin(Mono::empty);
		}
	}

	/** Two statements subscribed at once, from two threads, on one bound connection: both run, both complete. */
	@Test
	void twoStatementsRacingOnOneBoundConnectionBothComplete() {
		for (int round = 0; round < ROUNDS; round++) {
			int value = round;
			AtomicReference<Connection> bound = new AtomicReference<>();
			Sinks.Empty<Void> hold = Sinks.empty();
			TestSubscriber<Void> scopeTs = TestSubscriber.create();
			scope.inConnection(scope.withConnection(c -> {
				bound.set(c);
				return hold.asMono();
			})).subscribe(scopeTs);
			awaitTrue(() -> bound.get() != null, "the scope has bound its connection");
			Connection c = bound.get();

			TestSubscriber<Integer> a = TestSubscriber.create();
			TestSubscriber<Integer> b = TestSubscriber.create();
			RaceTestUtils.race(() -> query(c, "SELECT " + value, Integer.class).subscribe(a),
					() -> query(c, "SELECT " + (-value), Integer.class).subscribe(b));
			a.block(LIMIT);
			b.block(LIMIT);

			assertThat(a.isTerminatedComplete()).as("first statement completed: %s", a.getTerminalSignal()).isTrue();
			assertThat(b.isTerminatedComplete()).as("second statement completed: %s", b.getTerminalSignal()).isTrue();
			assertThat(a.getReceivedOnNext()).containsExactly(value);
			assertThat(b.getReceivedOnNext()).containsExactly(-value);
			hold.tryEmitEmpty();
			scopeTs.block(LIMIT);
			assertThat(scopeTs.isTerminatedComplete()).isTrue();
			assertRoundClean(round);
		}
		assertThat(counting.acquired() - acquiredBySetUp).isEqualTo(ROUNDS);
	}

	/**
	 * A statement whose result waits for demand holds the connection; the downstream's request races with
	 * a second statement queuing up (which makes the first drain). Both complete with all their rows.
	 */
	@Test
	void demandRacingWithContentionOnOneBoundConnectionBothComplete() {
		List<Long> fifty = LongStream.rangeClosed(1, 50).boxed().toList();
		for (int round = 0; round < ROUNDS; round++) {
			AtomicReference<Connection> bound = new AtomicReference<>();
			Sinks.Empty<Void> hold = Sinks.empty();
			TestSubscriber<Void> scopeTs = TestSubscriber.create();
			scope.inConnection(scope.withConnection(c -> {
				bound.set(c);
				return hold.asMono();
			})).subscribe(scopeTs);
			awaitTrue(() -> bound.get() != null, "the scope has bound its connection");
			Connection c = bound.get();

			TestSubscriber<Long> a = TestSubscriber.<Long>builder().initialRequest(0).build();
			query(c, "SELECT X FROM SYSTEM_RANGE(1, 50)", Long.class).subscribe(a);
			TestSubscriber<Integer> b = TestSubscriber.create();
			RaceTestUtils.race(() -> a.request(Long.MAX_VALUE),
					() -> query(c, "SELECT 1", Integer.class).subscribe(b));
			a.block(LIMIT);
			b.block(LIMIT);

			assertThat(a.isTerminatedComplete()).as("streaming statement completed: %s", a.getTerminalSignal()).isTrue();
			assertThat(a.getReceivedOnNext()).isEqualTo(fifty);
			assertThat(b.isTerminatedComplete()).as("queued statement completed: %s", b.getTerminalSignal()).isTrue();
			assertThat(b.getReceivedOnNext()).containsExactly(1);
			hold.tryEmitEmpty();
			scopeTs.block(LIMIT);
			assertRoundClean(round);
		}
	}

	/** Two statements racing to trigger a lazy scope's acquisition: one acquisition, one session, both complete. */
	@Test
	void twoStatementsRacingToTriggerALazyAcquisitionShareOneConnection() {
		for (int round = 0; round < ROUNDS; round++) {
			AtomicReference<ContextView> context = new AtomicReference<>();
			Sinks.Empty<Void> hold = Sinks.empty();
			TestSubscriber<Void> scopeTs = TestSubscriber.create();
			scope.inLazyConnection(Mono.deferContextual(ctx -> {
				context.set(ctx);
				return hold.asMono();
			})).subscribe(scopeTs);
			awaitTrue(() -> context.get() != null, "the lazy scope's body runs");
			ContextView ctx = context.get();
			int createsBefore = counting.createSubscriptions();

			TestSubscriber<Integer> a = TestSubscriber.create();
			TestSubscriber<Integer> b = TestSubscriber.create();
			RaceTestUtils.race(() -> sessionId().contextWrite(ctx).subscribe(a),
					() -> sessionId().contextWrite(ctx).subscribe(b));
			a.block(LIMIT);
			b.block(LIMIT);

			assertThat(a.isTerminatedComplete()).as("first statement completed: %s", a.getTerminalSignal()).isTrue();
			assertThat(b.isTerminatedComplete()).as("second statement completed: %s", b.getTerminalSignal()).isTrue();
			assertThat(a.getReceivedOnNext()).as("session ids").isEqualTo(b.getReceivedOnNext());
			assertThat(counting.createSubscriptions() - createsBefore).as("acquisitions started").isEqualTo(1);
			hold.tryEmitEmpty();
			scopeTs.block(LIMIT);
			assertThat(scopeTs.isTerminatedComplete()).isTrue();
			assertRoundClean(round);
		}
		assertThat(counting.acquired() - acquiredBySetUp).isEqualTo(ROUNDS);
	}

	/**
	 * The lazy scope is cancelled while a statement triggers its acquisition: whichever comes first, a
	 * connection that was acquired is released exactly once.
	 */
	@Test
	void cancelRacingWithLazyAcquisitionTriggerReleasesOnce() {
		for (int round = 0; round < ROUNDS; round++) {
			AtomicReference<ContextView> context = new AtomicReference<>();
			TestSubscriber<Void> scopeTs = TestSubscriber.create();
			scope.inLazyConnection(Mono.deferContextual(ctx -> {
				context.set(ctx);
				return Mono.<Void>never();
			})).subscribe(scopeTs);
			awaitTrue(() -> context.get() != null, "the lazy scope's body runs");
			ContextView ctx = context.get();

			TestSubscriber<Integer> statement = TestSubscriber.create();
			RaceTestUtils.race(() -> sessionId().contextWrite(ctx).subscribe(statement), scopeTs::cancel);
			statement.block(LIMIT);

			assertRoundClean(round);
			assertThat(counting.acquired() - acquiredBySetUp).as("acquisitions after round %d", round).isLessThanOrEqualTo(round + 1);
		}
	}

	/**
	 * Cancel racing with the end of COMMIT: a commit under way is never interrupted, so every round's row
	 * is committed, whoever wins, and the connection is released once.
	 */
	@Test
	void cancelRacingWithCommitCompletionNeverLosesTheCommit() {
		AtomicReference<Sinks.Empty<Void>> committing = new AtomicReference<>();
		AtomicReference<Sinks.Empty<Void>> reached = new AtomicReference<>();
		counting.beforeCommit(() -> Mono.fromRunnable(() -> reached.get().tryEmitEmpty()).then(committing.get().asMono()));
		try {
			for (int round = 0; round < ROUNDS; round++) {
				int id = round;
				Sinks.Empty<Void> commit = Sinks.empty();
				Sinks.Empty<Void> commitReached = Sinks.empty();
				committing.set(commit);
				reached.set(commitReached);
				TestSubscriber<Long> ts = TestSubscriber.create();
				scope.inTransaction(scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (" + id + ")")))
						.subscribe(ts);
				commitReached.asMono().block(LIMIT);

				RaceTestUtils.race(commit::tryEmitEmpty, ts::cancel);

				assertRoundClean(round);
				assertCompletedWithOrCancelled(ts, List.of(1L));
				assertThat(rowCount().block(LIMIT)).as("rows committed after round %d", round).isEqualTo(round + 1);
			}
		}
		finally {
			counting.beforeCommit(Mono::empty);
		}
	}

	/**
	 * Cancel of a transaction racing with the downstream's demand for a statement still streaming: the
	 * transaction either completes and commits, or is cancelled and rolls back, or is cancelled during its
	 * COMMIT, which then finishes; nothing is left behind either way.
	 */
	@Test
	void cancelRacingWithDemandOfAStreamingStatementInATransactionReleasesOnce() {
		int committed = 0;
		for (int round = 0; round < ROUNDS; round++) {
			int id = round;
			AtomicReference<Boolean> streaming = new AtomicReference<>(false);
			TestSubscriber<Long> ts = TestSubscriber.<Long>builder().initialRequest(0).build();
			scope.inTransaction(scope.withConnectionMany(c -> update(c, "INSERT INTO " + table + " VALUES (" + id + ")")
							.thenMany(query(c, "SELECT X FROM SYSTEM_RANGE(1, 50)", Long.class)
									.doOnSubscribe(s -> streaming.set(true)))))
					.subscribe(ts);
			awaitTrue(streaming::get, "the streaming statement is subscribed");

			RaceTestUtils.race(() -> ts.request(Long.MAX_VALUE), ts::cancel);

			assertRoundClean(round);
			int rows = rowCount().block(LIMIT);
			Signal<Long> terminal = ts.getTerminalSignal();
			if (terminal != null) {
				assertThat(terminal.isOnComplete()).as("terminal signal %s", terminal).isTrue();
				assertThat(ts.getReceivedOnNext()).hasSize(50);
				assertThat(rows).as("rows after a completed round %d", round).isEqualTo(committed + 1);
			}
			else {
				assertThat(rows).as("rows after a cancelled round %d", round).isBetween(committed, committed + 1);
			}
			committed = rows;
		}
	}

	/**
	 * The deterministic form of a cancel that lands while the scope is subscribing its body: the body
	 * cancels its own scope while being subscribed, then starts a statement. The cancel cleanup must not
	 * close the connection under that statement (nothing may reach {@code onErrorDropped}).
	 */
	@Test
	void cancelWhileTheBodyIsBeingSubscribedDoesNotCloseTheConnectionUnderIt() {
		TestSubscriber<Integer> ts = TestSubscriber.create();
		scope.inConnection(Mono.defer(() -> {
			ts.cancel();
			return sessionId();
		})).subscribe(ts);

		assertRoundClean(0);
		assertThat(ts.isTerminated()).isFalse();
	}

	/** The same in a transaction: its rollback and release wait until the body's subscription has returned. */
	@Test
	void cancelWhileATransactionBodyIsBeingSubscribedDoesNotCloseTheConnectionUnderIt() {
		TestSubscriber<Integer> ts = TestSubscriber.create();
		scope.inTransaction(Mono.defer(() -> {
			ts.cancel();
			return scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (1)")).then(sessionId());
		})).subscribe(ts);

		assertRoundClean(0);
		assertThat(rowCount().block(LIMIT)).as("rows left by the cancelled transaction").isZero();
	}
}
