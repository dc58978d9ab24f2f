package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Statement;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Database;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.util.RaceTestUtils;

/**
 * The connection-scope contract, run on every database by a subclass. Each clause of the contract is
 * proven by counting: {@link CountingConnectionFactory} counts subscriptions to {@code create()},
 * connections handed out and connections closed, over a pool of at most 4 connections. Each test ends by
 * proving that every connection acquired was released exactly once and the pool is fully returned.
 */
abstract class ScopeContract extends DatabaseContract {

	/** Upper bound for any single verification, so a hang fails the test instead of the build. */
	private static final Duration VERIFY_TIMEOUT = Duration.ofSeconds(30);

	private int markCreates;
	private int markAcquired;
	private int markReleased;

	@BeforeAll
	static void boundVerifications() {
		StepVerifier.setDefaultTimeout(VERIFY_TIMEOUT);
	}

	@AfterAll
	static void resetVerifications() {
		StepVerifier.resetDefaultTimeout();
	}

	@BeforeEach
	void markAfterSetUp() {
		mark();
	}

	// ---------------------------------------------------------------- helpers

	/**
	 * Starts counting afresh: the {@code ...SinceMark()} methods count from here. Waits first for releases
	 * still finishing in the background (the counting factory counts a close when it has terminated).
	 */
	protected void mark() {
		Leaks.assertAllReleased(counting, pool);
		markCreates = counting.createSubscriptions();
		markAcquired = counting.acquired();
		markReleased = counting.released();
	}

	protected int createsSinceMark() {
		return counting.createSubscriptions() - markCreates;
	}

	protected int acquiredSinceMark() {
		return counting.acquired() - markAcquired;
	}

	protected int releasedSinceMark() {
		return counting.released() - markReleased;
	}

	/**
	 * Waits until every connection is back (releases after a cancel run in the background), then asserts
	 * that exactly {@code n} connections were acquired since the mark and each was released once.
	 */
	protected void assertAcquiredAndReleased(int n) {
		Leaks.assertAllReleased(counting, pool);
		assertThat(acquiredSinceMark()).as("connections acquired since the mark").isEqualTo(n);
		assertThat(releasedSinceMark()).as("connections released since the mark").isEqualTo(n);
		assertThat(counting.doubleReleases()).as("connections released twice").isZero();
	}

	/** Waits for a condition that becomes true in the background; fails if it does not within 10 s. */
	protected static void awaitTrue(BooleanSupplier condition, String what) {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				throw new AssertionError("timed out waiting for: " + what);
			}
			try {
				Thread.sleep(2);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new AssertionError(e);
			}
		}
	}

	protected Mono<Integer> sessionId() {
		return scope.withConnection(c -> query(c, database().sessionIdSql(), Number.class).single().map(Number::intValue));
	}

	/** The session id of {@code c}; {@code tag} is a column alias that marks the statement in the counts. */
	protected Mono<Integer> sid(Connection c, String tag) {
		return query(c, database().sessionIdSql() + " AS " + tag, Number.class).single().map(Number::intValue);
	}

	protected Mono<Integer> sid(Connection c) {
		return sid(c, "sid");
	}

	/** The session id, recording the thread that subscribed the statement. */
	protected Mono<Integer> sessionIdOn(Queue<String> threads) {
		return Mono.defer(() -> {
			threads.add(Thread.currentThread().getName());
			return sessionId();
		});
	}

	protected Mono<Long> insert(Connection c, int id) {
		return update(c, "INSERT INTO " + table + " VALUES (" + id + ", 'v" + id + "')");
	}

	protected Mono<Long> insert(int id) {
		return scope.withConnection(c -> insert(c, id));
	}

	/** Inserts rows 1..n in one statement, outside the counted part of a test (marks afterwards). */
	protected void seed(int n) {
		String values = IntStream.rangeClosed(1, n).mapToObj(i -> "(" + i + ", 'r')").collect(Collectors.joining(","));
		scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES " + values)).block();
		mark();
	}

	protected Mono<Integer> rowCount() {
		return scope.withConnection(c -> query(c, "SELECT COUNT(*) FROM " + table, Number.class).single())
				.map(Number::intValue);
	}

	private static void assertOneDistinct(List<Integer> ids) {
		assertThat(ids).isNotEmpty();
		assertThat(new HashSet<>(ids)).as("session ids seen by the pipeline: %s", ids).hasSize(1);
	}

	// ---------------------------------------------------------------- the original examples

	@Test
	void inConnectionSharesOneConnectionForTheWholePipeline() {
		Mono<Boolean> sameSession = scope.inConnection(sessionId().flatMap(a -> sessionId().map(b -> a.equals(b))));
		sameSession.as(StepVerifier::create).expectNext(true).verifyComplete();
		assertThat(counting.acquired()).isEqualTo(2); // setUp + this pipeline
	}

	/**
	 * A statement created on a scope's connection after the scope released it never reaches the released
	 * connection: creating it succeeds, executing it fails with the scope's own explanation. (Creating it
	 * used to call the pool's connection, which had been closed: a pipeline whose statement was being created
	 * while a cancel released its connection failed with the pool's "connection is closed" error, which,
	 * the pipeline being cancelled, went to onErrorDropped. The storm found it.)
	 */
	@Test
	void aStatementCreatedAfterTheScopeReleasedItsConnectionFailsWithTheScopesError() {
		AtomicReference<Connection> kept = new AtomicReference<>();
		scope.inConnection(scope.withConnection(c -> {
			kept.set(c);
			return Mono.just(1);
		})).as(StepVerifier::create).expectNext(1).verifyComplete();
		Leaks.assertAllReleased(counting, pool);
		int statementsBefore = counting.statements().size();

		Statement late = kept.get().createStatement("SELECT 1");
		Flux.from(late.execute()).as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
						.hasMessageContaining("has already been released"))
				.verify(Duration.ofSeconds(10));
		assertThat(counting.statements().size() - statementsBefore).as("statements that reached the driver").isZero();
	}

	@Test
	void withConnectionOutsideAScopeAcquiresAndReleasesPerCall() {
		Flux.range(0, 3).concatMap(i -> scope.withConnection(c -> update(c,
				"INSERT INTO " + table + " VALUES (" + i + ", 'x')")))
				.as(StepVerifier::create).expectNext(1L, 1L, 1L).verifyComplete();
		assertThat(counting.acquired()).isEqualTo(4);
	}

	@Test
	void transactionCommitsOnComplete() {
		scope.inTransaction(scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (1, 'a')")))
				.as(StepVerifier::create).expectNext(1L).verifyComplete();
		scope.withConnection(c -> query(c, "SELECT COUNT(*) FROM " + table, Number.class).single())
				.map(Number::intValue).as(StepVerifier::create).expectNext(1).verifyComplete();
	}

	@Test
	void transactionRollsBackOnError() {
		scope.inTransaction(scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (1, 'a')"))
				.then(Mono.error(new IllegalStateException("boom"))))
				.as(StepVerifier::create).verifyErrorMessage("boom");
		scope.withConnection(c -> query(c, "SELECT COUNT(*) FROM " + table, Number.class).single())
				.map(Number::intValue).as(StepVerifier::create).expectNext(0).verifyComplete();
	}

	// ---------------------------------------------------------------- 1. cold: nothing at assembly

	/** Clause 1: building every operator, without subscribing, acquires nothing and calls no user function. */
	@Test
	void assemblyAcquiresNothing() {
		AtomicInteger fnCalls = new AtomicInteger();
		Mono<Integer> body = scope.withConnection(c -> {
			fnCalls.incrementAndGet();
			return sid(c);
		});
		List<Publisher<?>> assembled = List.of(
				scope.inConnection(body),
				scope.inConnection(Flux.from(body)),
				scope.inLazyConnection(body),
				scope.inLazyConnection(Flux.from(body)),
				scope.withConnection(c -> {
					fnCalls.incrementAndGet();
					return sid(c);
				}),
				scope.withConnectionMany(c -> {
					fnCalls.incrementAndGet();
					return sid(c);
				}),
				scope.inTransaction(body),
				scope.inTransaction(Flux.from(body)),
				scope.inTransaction(TransactionOptions.of(Propagation.REQUIRES_NEW), body),
				scope.currentConnection());

		assertThat(assembled).hasSize(10);
		assertThat(createsSinceMark()).as("create() subscriptions at assembly").isZero();
		assertThat(acquiredSinceMark()).isZero();
		assertThat(fnCalls).hasValue(0);
	}

	/** Clause 1: an assembled scope is cold; each subscription acquires and releases its own connection. */
	@Test
	void eachSubscriptionOfAnAssembledScopeGetsItsOwnScope() {
		Mono<Integer> assembled = scope.inConnection(sessionId());
		assertThat(createsSinceMark()).isZero();

		assembled.as(StepVerifier::create).expectNextCount(1).verifyComplete();
		assembled.as(StepVerifier::create).expectNextCount(1).verifyComplete();

		assertAcquiredAndReleased(2);
	}

	// ---------------------------------------------------------------- 2. eager scope

	/** Clause 2: the eager scope acquires once, before the body is subscribed, and releases once on complete. */
	@Test
	void eagerScopeAcquiresBeforeTheBodyAndReleasesOnceOnComplete() {
		Mono<List<Integer>> body = Mono.fromCallable(() -> List.of(acquiredSinceMark(), releasedSinceMark()));
		scope.inConnection(body.flatMap(counts -> insert(1).thenReturn(counts)))
				.as(StepVerifier::create)
				.expectNext(List.of(1, 0))
				.verifyComplete();
		assertAcquiredAndReleased(1);
		rowCount().as(StepVerifier::create).expectNext(1).verifyComplete();
	}

	/** Clause 2: the Flux flavour releases once on complete, and the items pass through in order. */
	@Test
	void eagerFluxScopeReleasesOnceOnComplete() {
		scope.inConnection(Flux.range(1, 5).concatMap(this::insert))
				.as(StepVerifier::create)
				.expectNext(1L, 1L, 1L, 1L, 1L)
				.verifyComplete();
		assertAcquiredAndReleased(1);
		assertThat(counting.connectionsRunning("INSERT INTO " + table)).hasSize(1);
	}

	/** Clause 2: the eager scope releases once on error, and the error reaches the subscriber unchanged. */
	@Test
	void eagerScopeReleasesOnceOnErrorAndPassesTheErrorThroughUnchanged() {
		IllegalStateException boom = new IllegalStateException("boom");
		scope.inConnection(insert(1).then(Mono.<Integer>error(boom)))
				.as(StepVerifier::create)
				.verifyErrorSatisfies(e -> {
					assertThat(e).isSameAs(boom);
					assertThat(e.getSuppressed()).isEmpty();
				});
		assertAcquiredAndReleased(1);

		mark();
		scope.inConnection(Flux.concat(insert(2), Flux.error(boom)))
				.as(StepVerifier::create)
				.expectNext(1L)
				.verifyErrorSatisfies(e -> assertThat(e).isSameAs(boom));
		assertAcquiredAndReleased(1);
	}

	/** Clause 2: a Flux body of many statements, cancelled after a few items, is cancelled and released once. */
	@Test
	void eagerScopeReleasesOnceWhenCancelledMidStream() {
		AtomicBoolean bodyCancelled = new AtomicBoolean();
		Flux<Integer> body = Flux.range(1, 1_000).concatMap(i -> insert(i).thenReturn(i))
				.doOnCancel(() -> bodyCancelled.set(true));
		scope.inConnection(body)
				.as(StepVerifier::create)
				.expectNext(1, 2, 3)
				.thenCancel()
				.verify();
		assertAcquiredAndReleased(1);
		assertThat(bodyCancelled).isTrue();
		assertThat(counting.connectionsRunning("INSERT INTO " + table)).hasSize(1);
		rowCount().as(StepVerifier::create).assertNext(n -> assertThat(n).isBetween(3, 4)).verifyComplete();
	}

	/** Clause 2: cancelling while a query streams its rows cancels the body and releases once. */
	@Test
	void eagerScopeReleasesOnceWhenCancelledWhileRowsStream() {
		seed(500);
		AtomicBoolean bodyCancelled = new AtomicBoolean();
		Flux<Integer> rows = scope.withConnectionMany(c -> query(c, "SELECT id FROM " + table + " ORDER BY id", Integer.class))
				.doOnCancel(() -> bodyCancelled.set(true));
		scope.inConnection(rows)
				.as(StepVerifier::create)
				.expectNext(1, 2, 3, 4, 5)
				.thenCancel()
				.verify();
		assertAcquiredAndReleased(1);
		assertThat(bodyCancelled).isTrue();
		// The connection went back to the pool in a usable state.
		rowCount().as(StepVerifier::create).expectNext(500).verifyComplete();
	}

	/** Clause 2: cancelling a body that waits (after it ran a statement) releases once. */
	@Test
	void eagerScopeReleasesOnceWhenCancelledWhileTheBodyWaits() {
		AtomicBoolean ranStatement = new AtomicBoolean();
		scope.inConnection(insert(1).doOnNext(n -> ranStatement.set(true)).then(Mono.never()))
				.as(StepVerifier::create)
				.expectSubscription()
				.then(() -> awaitTrue(ranStatement::get, "the body's statement ran"))
				.then(() -> assertThat(counting.open()).as("connection held while the body waits").isEqualTo(1))
				.thenCancel()
				.verify();
		assertAcquiredAndReleased(1);
	}

	/**
	 * Clause 2: a cancel racing the body's completion still releases exactly once, for eager, lazy and
	 * withConnection scopes (repeated, since the interleaving differs from run to run).
	 */
	@Test
	void cancelRacingCompletionReleasesExactlyOnce() {
		List<Function<Mono<Integer>, Mono<Integer>>> scopes = List.of(
				b -> scope.inConnection(b),
				b -> scope.inLazyConnection(b),
				b -> scope.withConnection(c -> b));
		for (Function<Mono<Integer>, Mono<Integer>> s : scopes) {
			for (int round = 0; round < 50; round++) {
				mark();
				Sinks.One<Integer> finish = Sinks.one();
				AtomicBoolean ranStatement = new AtomicBoolean();
				Disposable d = s.apply(sessionId().doOnNext(id -> ranStatement.set(true)).then(finish.asMono())).subscribe();
				awaitTrue(ranStatement::get, "the body's statement ran");
				int value = round;
				RaceTestUtils.race(() -> finish.tryEmitValue(value), d::dispose);
				assertAcquiredAndReleased(1);
			}
		}
	}

	// ---------------------------------------------------------------- 3. cancel before / during acquire

	/**
	 * Holds the acquisition with the factory's hook, cancels the subscriber, then lets the connection
	 * arrive: it must be released, and the body never subscribed.
	 */
	private void assertCancelDuringAcquisitionReleasesTheLateConnection(Function<Mono<Integer>, Publisher<?>> operator) {
		assertCancelDuringAcquisitionReleasesTheLateConnection(operator, false);
	}

	/**
	 * @param lazy the operator is a lazy scope: its body runs before the acquisition (which the body's
	 *        statement triggers), so only the statement, not the body, must never have run
	 */
	private void assertCancelDuringAcquisitionReleasesTheLateConnection(Function<Mono<Integer>, Publisher<?>> operator,
			boolean lazy) {
		Sinks.Empty<Void> held = Sinks.empty();
		counting.beforeAcquire(held::asMono);
		AtomicBoolean bodySubscribed = new AtomicBoolean();
		Mono<Integer> body = Mono.defer(() -> {
			bodySubscribed.set(true);
			return sessionId();
		});
		try {
			StepVerifier.create(operator.apply(body))
					.expectSubscription()
					.then(() -> awaitTrue(() -> createsSinceMark() == 1, "the acquisition started"))
					.then(() -> assertThat(acquiredSinceMark()).as("acquired while the hook holds it").isZero())
					.thenCancel()
					.verify();
		}
		finally {
			counting.beforeAcquire(Mono::empty);
			held.tryEmitEmpty();
		}
		awaitTrue(() -> acquiredSinceMark() == 1, "the held connection arrived");
		assertAcquiredAndReleased(1);
		assertThat(bodySubscribed.get()).as("body subscribed").isEqualTo(lazy);
		assertThat(counting.connectionsRunning(database().sessionIdSql())).as("connections that ran the body's statement")
				.isEmpty();
	}

	/** Clause 3: inConnection(Mono) cancelled during acquisition releases the late connection; no body. */
	@Test
	void cancelDuringAcquisitionOfMonoScopeReleasesTheLateConnection() {
		assertCancelDuringAcquisitionReleasesTheLateConnection(b -> scope.inConnection(b));
	}

	/** Clause 3: inConnection(Flux) cancelled during acquisition releases the late connection; no body. */
	@Test
	void cancelDuringAcquisitionOfFluxScopeReleasesTheLateConnection() {
		assertCancelDuringAcquisitionReleasesTheLateConnection(b -> scope.inConnection(Flux.from(b)));
	}

	/** Clause 3: withConnection outside a scope, cancelled during acquisition, releases the late connection. */
	@Test
	void cancelDuringAcquisitionOfWithConnectionReleasesTheLateConnection() {
		assertCancelDuringAcquisitionReleasesTheLateConnection(b -> scope.withConnection(c -> b));
	}

	/** Clause 3: inTransaction cancelled during acquisition releases the late connection and never commits. */
	@Test
	void cancelDuringAcquisitionOfTransactionReleasesTheLateConnection() {
		assertCancelDuringAcquisitionReleasesTheLateConnection(b -> scope.inTransaction(b));
		assertThat(counting.commands()).noneMatch(c -> c.contains("COMMIT"));
	}

	/** Clause 3: a scope cancelled while it waits for an exhausted pool releases the connection it gets later. */
	@Test
	void cancelWhileWaitingForAnExhaustedPoolReleasesTheConnectionWhenItArrives() {
		Sinks.Empty<Void> hold = Sinks.empty();
		Disposable holders = Flux.range(0, 4)
				.flatMap(i -> scope.inConnection(sessionId().then(hold.asMono())))
				.subscribe();
		AtomicBoolean bodySubscribed = new AtomicBoolean();
		try {
			awaitTrue(() -> acquiredSinceMark() == 4, "four connections held");
			scope.inConnection(Mono.defer(() -> {
				bodySubscribed.set(true);
				return sessionId();
			}))
					.as(StepVerifier::create)
					.expectSubscription()
					.then(() -> awaitTrue(() -> createsSinceMark() == 5, "the fifth acquisition waits in the pool"))
					.thenCancel()
					.verify();
		}
		finally {
			hold.tryEmitEmpty();
		}
		awaitTrue(() -> acquiredSinceMark() == 5, "the pool handed the fifth connection over");
		assertAcquiredAndReleased(5);
		assertThat(bodySubscribed).as("body subscribed").isFalse();
		assertThat(holders.isDisposed()).isTrue();
	}

	/**
	 * Clause 3: a subscriber that cancels inside {@code onSubscribe}, before any acquisition, leaks
	 * nothing and never sees the body run.
	 */
	@Test
	void cancelInOnSubscribeLeaksNothingAndNeverRunsTheBody() {
		AtomicBoolean bodySubscribed = new AtomicBoolean();
		Flux<Integer> body = Flux.defer(() -> {
			bodySubscribed.set(true);
			return sessionId();
		});
		AtomicBoolean signalled = new AtomicBoolean();
		scope.inConnection(body).subscribe(new BaseSubscriber<Integer>() {
			@Override
			protected void hookOnSubscribe(Subscription subscription) {
				cancel();
			}

			@Override
			protected void hookOnNext(Integer value) {
				signalled.set(true);
			}

			@Override
			protected void hookOnComplete() {
				signalled.set(true);
			}

			@Override
			protected void hookOnError(Throwable throwable) {
				signalled.set(true);
			}
		});
		Leaks.assertAllReleased(counting, pool);
		assertThat(signalled).as("signals after the cancel").isFalse();
		assertThat(acquiredSinceMark()).as("a scope cancelled in onSubscribe never acquires").isZero();
		assertThat(releasedSinceMark()).isEqualTo(acquiredSinceMark());
		assertThat(bodySubscribed).isFalse();
	}

	// ---------------------------------------------------------------- 4. error in the middle of a body

	/** Clause 4: an error raised after some statements ran releases once and reaches the subscriber. */
	@Test
	void errorInTheMiddleOfABodyReleasesOnceAndPropagates() {
		IllegalStateException boom = new IllegalStateException("boom after two inserts");
		scope.inConnection(Flux.range(1, 5).concatMap(i -> i == 3 ? Mono.error(boom) : insert(i)))
				.as(StepVerifier::create)
				.expectNext(1L, 1L)
				.verifyErrorSatisfies(e -> assertThat(e).isSameAs(boom));
		assertAcquiredAndReleased(1);
		assertThat(counting.connectionsRunning("INSERT INTO " + table)).hasSize(1);
		rowCount().as(StepVerifier::create).expectNext(2).verifyComplete();
	}

	/** Clause 4: a failing SQL statement after some statements ran releases once and its error propagates. */
	@Test
	void sqlErrorInTheMiddleOfABodyReleasesOnceAndPropagates() {
		scope.inConnection(Flux.concat(insert(1), insert(2), insert(1), insert(3)))
				.as(StepVerifier::create)
				.expectNext(1L, 1L)
				.verifyErrorSatisfies(e -> assertThat(e).isInstanceOf(R2dbcException.class));
		assertAcquiredAndReleased(1);
		// The connection went back in a usable state; the statement after the failure never ran.
		rowCount().as(StepVerifier::create).expectNext(2).verifyComplete();
	}

	// ---------------------------------------------------------------- 5. nesting on one factory

	/** Every operator of this scope nested inside {@code outer}: all must see the outer connection. */
	private Flux<Integer> everyNestedOperator() {
		return Flux.concat(
				sessionId(),
				scope.inConnection(sessionId()),
				scope.inConnection(Flux.from(sessionId())),
				scope.inLazyConnection(sessionId()),
				scope.inLazyConnection(Flux.from(sessionId())),
				scope.withConnection(this::sid),
				scope.withConnectionMany(this::sid),
				scope.currentConnection().flatMap(this::sid),
				scope.inTransaction(sessionId()),
				scope.inTransaction(Flux.from(sessionId())),
				sessionId());
	}

	/** Clause 5: every scope nested in an eager scope of the same factory reuses its connection (one acquisition). */
	@Test
	void nestedScopesInAnEagerScopeReuseTheOuterConnection() {
		scope.inConnection(everyNestedOperator().collectList())
				.as(StepVerifier::create)
				.assertNext(ids -> {
					assertThat(ids).hasSize(11);
					assertOneDistinct(ids);
				})
				.verifyComplete();
		assertAcquiredAndReleased(1);
	}

	/** Clause 5: every scope nested in a lazy scope, a withConnection or a transaction reuses its connection. */
	@Test
	void nestedScopesInOtherOuterScopesReuseTheOuterConnection() {
		List<Function<Mono<List<Integer>>, Mono<List<Integer>>>> outers = List.of(
				b -> scope.inLazyConnection(b),
				b -> scope.withConnection(c -> b),
				b -> scope.inTransaction(b));
		for (Function<Mono<List<Integer>>, Mono<List<Integer>>> outer : outers) {
			mark();
			outer.apply(everyNestedOperator().collectList())
					.as(StepVerifier::create)
					.assertNext(ScopeContract::assertOneDistinct)
					.verifyComplete();
			assertAcquiredAndReleased(1);
		}
	}

	/** Clause 5: a second ConnectionScope instance over the same factory reuses the bound connection, both ways. */
	@Test
	void aSecondScopeInstanceOnTheSameFactoryReusesTheBoundConnection() {
		ConnectionScope other = ConnectionScope.of(counting);
		assertThat(other).isNotSameAs(scope);

		scope.inConnection(sessionId().flatMap(a -> other.inConnection(other.withConnection(this::sid))
				.map(b -> List.of(a, b))))
				.as(StepVerifier::create)
				.assertNext(ScopeContract::assertOneDistinct)
				.verifyComplete();
		assertAcquiredAndReleased(1);

		mark();
		other.inLazyConnection(other.withConnection(this::sid).flatMap(a -> scope.inTransaction(sessionId())
				.zipWith(other.currentConnection().flatMap(this::sid), (b, c) -> List.of(a, b, c))))
				.as(StepVerifier::create)
				.assertNext(ScopeContract::assertOneDistinct)
				.verifyComplete();
		assertAcquiredAndReleased(1);
	}

	/** Clause 5: close() on the bound connection inside a scope is ignored; the scope still releases exactly once. */
	@Test
	void closeOfTheBoundConnectionByUserCodeIsIgnored() {
		List<Integer> releasedInside = new ArrayList<>();
		Mono<List<Integer>> body = scope.withConnection(c -> sid(c)
				.flatMap(before -> Mono.from(c.close())
						.then(sid(c))
						.flatMap(after -> scope.currentConnection()
								.flatMap(cc -> Mono.from(cc.close()).then(insert(cc, 1)).then(sessionId()))
								.map(third -> List.of(before, after, third)))))
				.doOnNext(ids -> releasedInside.add(releasedSinceMark()));
		scope.inConnection(body)
				.as(StepVerifier::create)
				.assertNext(ScopeContract::assertOneDistinct)
				.verifyComplete();
		assertThat(releasedInside).as("releases while the scope was still running").containsExactly(0);
		assertAcquiredAndReleased(1);
		rowCount().as(StepVerifier::create).expectNext(1).verifyComplete();
	}

	// ---------------------------------------------------------------- 6. two factories

	/** A second, independent pool and counting factory; the test disposes it. */
	private static final class Second {

		final ConnectionPool pool;
		final CountingConnectionFactory counting;
		final ConnectionScope scope;

		Second(Database db) {
			pool = db.pool(4);
			counting = new CountingConnectionFactory(pool);
			scope = ConnectionScope.builder(counting).name("second-" + db.name().toLowerCase()).build();
		}

		void close() {
			try {
				Leaks.assertAllReleased(counting, pool);
			}
			finally {
				pool.disposeLater().block();
			}
		}
	}

	/**
	 * Runs a pipeline alternating statements on {@code outer} and {@code inner} factories (tagged A and B)
	 * and checks that each factory ran all its statements on one connection of its own, acquired once.
	 */
	private void assertTwoFactoriesKeepTheirOwnConnections(boolean firstIsOuter) {
		Second second = new Second(database());
		try {
			String tagA = "a_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
			String tagB = "b_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
			Mono<Integer> a = scope.withConnection(c -> sid(c, tagA));
			Mono<Integer> b = second.scope.withConnection(c -> sid(c, tagB));
			Mono<List<Integer>> pipeline = Flux.concat(a, b, a, b, Flux.merge(a, b, a, b)).collectList();
			Mono<List<Integer>> nested = firstIsOuter
					? scope.inConnection(second.scope.inConnection(pipeline))
					: second.scope.inConnection(scope.inConnection(pipeline));
			nested.as(StepVerifier::create).expectNextCount(1).verifyComplete();

			assertAcquiredAndReleased(1);
			Leaks.assertAllReleased(second.counting, second.pool);
			assertThat(second.counting.acquired()).as("second factory acquisitions").isEqualTo(1);
			assertThat(second.counting.released()).as("second factory releases").isEqualTo(1);
			assertThat(counting.connectionsRunning(tagA)).as("first factory connections for its statements").hasSize(1);
			assertThat(second.counting.connectionsRunning(tagB)).as("second factory connections for its statements").hasSize(1);
			assertThat(counting.connectionsRunning(tagB)).as("second factory statements on the first").isEmpty();
			assertThat(second.counting.connectionsRunning(tagA)).as("first factory statements on the second").isEmpty();
			assertThat(second.counting.statements()).hasSize(4);
		}
		finally {
			second.close();
		}
	}

	/** Clause 6: scopes of two factories nested (first outside) each keep their own connection; both released. */
	@Test
	void twoFactoriesInOnePipelineKeepTheirOwnConnections() {
		assertTwoFactoriesKeepTheirOwnConnections(true);
	}

	/** Clause 6: the same with the scopes nested the other way round. */
	@Test
	void twoFactoriesNestedTheOtherWayRoundKeepTheirOwnConnections() {
		assertTwoFactoriesKeepTheirOwnConnections(false);
	}

	/** Clause 6: a scope on one factory binds nothing for another: withConnection there opens its own, per call. */
	@Test
	void aScopeOnOneFactoryDoesNotBindAnother() {
		Second second = new Second(database());
		try {
			scope.inConnection(Flux.concat(sessionId(), second.scope.withConnection(this::sid),
					second.scope.withConnection(this::sid), sessionId()).collectList())
					.as(StepVerifier::create).expectNextCount(1).verifyComplete();
			assertAcquiredAndReleased(1);
			Leaks.assertAllReleased(second.counting, second.pool);
			assertThat(second.counting.acquired()).isEqualTo(2);
			second.scope.currentConnection()
					.as(p -> scope.inConnection(p))
					.as(StepVerifier::create)
					.verifyError(NoBoundConnectionException.class);
		}
		finally {
			second.close();
		}
	}

	// ---------------------------------------------------------------- 7. lazy scope

	/** Clause 7: a lazy scope whose body never touches the database acquires nothing (Mono and Flux). */
	@Test
	void lazyScopeThatNeverTouchesTheDatabaseAcquiresNothing() {
		scope.inLazyConnection(Mono.just(1)).as(StepVerifier::create).expectNext(1).verifyComplete();
		scope.inLazyConnection(Flux.range(1, 3)).as(StepVerifier::create).expectNext(1, 2, 3).verifyComplete();
		scope.inLazyConnection(scope.isInTransaction()).as(StepVerifier::create).expectNext(false).verifyComplete();
		scope.inLazyConnection(Mono.error(new IllegalStateException("boom")))
				.as(StepVerifier::create).verifyErrorMessage("boom");
		scope.inLazyConnection(Mono.never()).as(StepVerifier::create).expectSubscription().thenCancel().verify();
		assertThat(createsSinceMark()).as("create() subscriptions").isZero();
		assertAcquiredAndReleased(0);
	}

	/** Clause 7: a lazy scope acquires exactly once for several sequential statements. */
	@Test
	void lazyScopeAcquiresOnceForSeveralStatements() {
		scope.inLazyConnection(Flux.concat(sessionId(), insert(1).then(sessionId()), sessionId()).collectList())
				.as(StepVerifier::create)
				.assertNext(ScopeContract::assertOneDistinct)
				.verifyComplete();
		assertAcquiredAndReleased(1);
	}

	/** Clause 7: concurrent first statements of a lazy scope (merge, on several threads) share one acquisition. */
	@Test
	void lazyScopeAcquiresOnceForConcurrentStatements() {
		for (int round = 0; round < 20; round++) {
			mark();
			scope.inLazyConnection(Flux.merge(
							sessionId(), sessionId(), sessionId(),
							sessionId().subscribeOn(Schedulers.parallel()),
							sessionId().subscribeOn(Schedulers.parallel()),
							sessionId().subscribeOn(Schedulers.boundedElastic()))
					.collectList())
					.as(StepVerifier::create)
					.assertNext(ids -> {
						assertThat(ids).hasSize(6);
						assertOneDistinct(ids);
					})
					.verifyComplete();
			assertThat(createsSinceMark()).as("create() subscriptions in round %d", round).isEqualTo(1);
			assertAcquiredAndReleased(1);
		}
	}

	/** Clause 7: a lazy scope that acquired releases once on error, passing the error through. */
	@Test
	void lazyScopeReleasesOnceOnError() {
		IllegalStateException boom = new IllegalStateException("boom");
		scope.inLazyConnection(insert(1).then(Mono.error(boom)))
				.as(StepVerifier::create)
				.verifyErrorSatisfies(e -> assertThat(e).isSameAs(boom));
		assertAcquiredAndReleased(1);
	}

	/** Clause 7: a lazy scope that acquired releases once on cancel (Mono body waiting, Flux body mid-stream). */
	@Test
	void lazyScopeReleasesOnceOnCancel() {
		AtomicBoolean ranStatement = new AtomicBoolean();
		scope.inLazyConnection(insert(1).doOnNext(n -> ranStatement.set(true)).then(Mono.never()))
				.as(StepVerifier::create)
				.expectSubscription()
				.then(() -> awaitTrue(ranStatement::get, "the body's statement ran"))
				.thenCancel()
				.verify();
		assertAcquiredAndReleased(1);

		mark();
		scope.inLazyConnection(Flux.range(2, 1_000).concatMap(i -> insert(i).thenReturn(i)))
				.as(StepVerifier::create)
				.expectNext(2, 3, 4)
				.thenCancel()
				.verify();
		assertAcquiredAndReleased(1);
	}

	/** Clause 7: a lazy scope cancelled while its acquisition is held releases the connection when it arrives. */
	@Test
	void lazyScopeCancelledWhileItsAcquisitionIsHeldReleasesTheLateConnection() {
		assertCancelDuringAcquisitionReleasesTheLateConnection(b -> scope.inLazyConnection(b), true);
	}

	/**
	 * Clause 7: when the statement that triggered a lazy acquisition is cancelled and the body completes
	 * while the acquisition is held, the scope still owns the connection: it is released when it arrives,
	 * and the body's value comes after that release.
	 */
	@Test
	void lazyScopeCompletingWhileItsAcquisitionIsHeldReleasesTheLateConnection() {
		Sinks.Empty<Void> held = Sinks.empty();
		counting.beforeAcquire(held::asMono);
		List<Integer> releasedAtValue = new ArrayList<>();
		try {
			scope.inLazyConnection(Mono.firstWithSignal(sessionId(), Mono.just(-1)))
					.doOnNext(v -> releasedAtValue.add(releasedSinceMark()))
					.as(StepVerifier::create)
					.expectSubscription()
					.then(() -> awaitTrue(() -> createsSinceMark() == 1, "the lazy acquisition started"))
					.then(() -> {
						counting.beforeAcquire(Mono::empty);
						held.tryEmitEmpty();
					})
					.expectNext(-1)
					.verifyComplete();
		}
		finally {
			counting.beforeAcquire(Mono::empty);
			held.tryEmitEmpty();
		}
		assertAcquiredAndReleased(1);
		assertThat(counting.connectionsRunning(database().sessionIdSql())).isEmpty();
	}

	// ---------------------------------------------------------------- 8. currentConnection

	/** Clause 8: currentConnection() outside any scope fails with NoBoundConnectionException naming the scope. */
	@Test
	void currentConnectionOutsideAnyScopeFailsNamingTheScope() {
		String name = database().name().toLowerCase();
		assertThat(scope.name()).isEqualTo(name);
		scope.currentConnection()
				.as(StepVerifier::create)
				.verifyErrorSatisfies(e -> assertThat(e)
						.isInstanceOf(NoBoundConnectionException.class)
						.hasMessageContaining(name));

		ConnectionScope named = ConnectionScope.builder(counting).name("orders-db-" + name).build();
		named.currentConnection()
				.as(StepVerifier::create)
				.verifyErrorSatisfies(e -> assertThat(e)
						.isInstanceOf(NoBoundConnectionException.class)
						.hasMessageContaining("orders-db-" + name));
		assertThat(createsSinceMark()).isZero();
	}

	/** Clause 8: currentConnection() inside a lazy scope acquires (once) and gives the scope's connection. */
	@Test
	void currentConnectionInsideALazyScopeAcquiresOnce() {
		scope.inLazyConnection(scope.currentConnection()
				.flatMap(c -> sid(c).flatMap(a -> scope.currentConnection().flatMap(this::sid)
						.zipWith(sessionId(), (b, d) -> List.of(a, b, d)))))
				.as(StepVerifier::create)
				.assertNext(ScopeContract::assertOneDistinct)
				.verifyComplete();
		assertAcquiredAndReleased(1);
	}

	/** Clause 8: currentConnection() inside an eager scope gives the bound connection without acquiring again. */
	@Test
	void currentConnectionInsideAnEagerScopeGivesTheBoundConnection() {
		scope.inConnection(sessionId().zipWith(scope.currentConnection().flatMap(this::sid), List::of))
				.as(StepVerifier::create)
				.assertNext(ScopeContract::assertOneDistinct)
				.verifyComplete();
		assertAcquiredAndReleased(1);
	}

	// ---------------------------------------------------------------- 9. withConnection outside a scope

	/** Clause 9: withConnection outside a scope opens its own connection; nested withConnection reuses it. */
	@Test
	void withConnectionOutsideAScopeReleasesOnCompleteAndNestedCallsReuseIt() {
		scope.withConnection(c -> sid(c).flatMap(a -> scope.withConnection(this::sid)
				.zipWith(scope.withConnectionMany(this::sid).single(), (b, d) -> List.of(a, b, d))))
				.as(StepVerifier::create)
				.assertNext(ScopeContract::assertOneDistinct)
				.verifyComplete();
		assertAcquiredAndReleased(1);

		mark();
		scope.withConnectionMany(c -> Flux.concat(sid(c), scope.withConnection(this::sid), sessionId()))
				.collectList()
				.as(StepVerifier::create)
				.assertNext(ScopeContract::assertOneDistinct)
				.verifyComplete();
		assertAcquiredAndReleased(1);
	}

	/** Clause 9: withConnection outside a scope releases once on error, whether fn's Mono fails or fn throws. */
	@Test
	void withConnectionOutsideAScopeReleasesOnError() {
		IllegalStateException boom = new IllegalStateException("boom");
		scope.withConnection(c -> insert(c, 1).then(Mono.error(boom)))
				.as(StepVerifier::create)
				.verifyErrorSatisfies(e -> assertThat(e).isSameAs(boom));
		assertAcquiredAndReleased(1);

		mark();
		scope.<Integer>withConnection(c -> {
			throw boom;
		})
				.as(StepVerifier::create)
				.verifyErrorSatisfies(e -> assertThat(e).isSameAs(boom));
		assertAcquiredAndReleased(1);

		mark();
		scope.withConnectionMany(c -> Flux.concat(insert(c, 2), Flux.error(boom)))
				.as(StepVerifier::create)
				.expectNext(1L)
				.verifyErrorSatisfies(e -> assertThat(e).isSameAs(boom));
		assertAcquiredAndReleased(1);
	}

	/**
	 * Clause 9: withConnection outside a scope whose fn returns null (a programming error) fails with an
	 * NPE, like Reactor's own operators, and releases its connection once. A correct scope fails at once;
	 * the bounded wait only keeps a hang from stalling the suite.
	 */
	@Test
	void withConnectionOutsideAScopeReleasesWhenFnReturnsNull() {
		scope.<Integer>withConnection(c -> null)
				.as(StepVerifier::create)
				.expectError(NullPointerException.class)
				.verify(Duration.ofSeconds(5));
		assertAcquiredAndReleased(1);
	}

	/** Clause 9: the same for withConnectionMany: an NPE, and the connection released once. */
	@Test
	void withConnectionManyOutsideAScopeReleasesWhenFnReturnsNull() {
		scope.<Integer>withConnectionMany(c -> null)
				.as(StepVerifier::create)
				.expectError(NullPointerException.class)
				.verify(Duration.ofSeconds(5));
		assertAcquiredAndReleased(1);
	}

	/** Clause 9: inside a scope, a withConnection fn returning null fails with an NPE; the scope releases once. */
	@Test
	void withConnectionInsideAScopeFailsWhenFnReturnsNull() {
		scope.inConnection(scope.<Integer>withConnection(c -> null))
				.as(StepVerifier::create)
				.expectError(NullPointerException.class)
				.verify(Duration.ofSeconds(5));
		assertAcquiredAndReleased(1);
		mark();
		scope.inLazyConnection(scope.<Integer>withConnectionMany(c -> null))
				.as(StepVerifier::create)
				.expectError(NullPointerException.class)
				.verify(Duration.ofSeconds(5));
		assertAcquiredAndReleased(1);
	}

	/** Clause 9: withConnection outside a scope releases once on cancel (waiting Mono, streaming Flux). */
	@Test
	void withConnectionOutsideAScopeReleasesOnCancel() {
		AtomicBoolean ranStatement = new AtomicBoolean();
		scope.withConnection(c -> insert(c, 1_000_000).doOnNext(n -> ranStatement.set(true)).then(Mono.never()))
				.as(StepVerifier::create)
				.expectSubscription()
				.then(() -> awaitTrue(ranStatement::get, "the statement ran"))
				.thenCancel()
				.verify();
		assertAcquiredAndReleased(1);

		seed(300);
		scope.withConnectionMany(c -> query(c, "SELECT id FROM " + table + " ORDER BY id", Integer.class))
				.as(StepVerifier::create)
				.expectNext(1, 2, 3)
				.thenCancel()
				.verify();
		assertAcquiredAndReleased(1);
	}

	// ---------------------------------------------------------------- 10. thread hops

	/** Runs {@code body} in an eager scope and asserts one session id throughout and one acquisition. */
	private void assertOneSessionThroughout(Flux<Integer> body, int statements) {
		scope.inConnection(body).collectList()
				.as(StepVerifier::create)
				.assertNext(ids -> {
					assertThat(ids).hasSize(statements);
					assertOneDistinct(ids);
				})
				.verifyComplete();
		assertAcquiredAndReleased(1);
	}

	private static void assertSomeThreadStartsWith(Queue<String> threads, String prefix) {
		assertThat(threads).as("threads that subscribed statements").anySatisfy(t -> assertThat(t).startsWith(prefix));
	}

	/** Clause 10: the binding survives publishOn(parallel): one session, one acquisition. */
	@Test
	void bindingSurvivesPublishOn() {
		Queue<String> threads = new ConcurrentLinkedQueue<>();
		assertOneSessionThroughout(Flux.concat(
				sessionIdOn(threads),
				sessionIdOn(threads).publishOn(Schedulers.parallel()).flatMap(a -> sessionIdOn(threads)),
				Flux.range(0, 4).publishOn(Schedulers.parallel()).concatMap(i -> sessionIdOn(threads))), 6);
		assertSomeThreadStartsWith(threads, "parallel-");
	}

	/** Clause 10: the binding survives subscribeOn(boundedElastic), for single statements and the whole body. */
	@Test
	void bindingSurvivesSubscribeOn() {
		Queue<String> threads = new ConcurrentLinkedQueue<>();
		assertOneSessionThroughout(Flux.concat(
				sessionIdOn(threads).subscribeOn(Schedulers.boundedElastic()),
				Flux.merge(sessionIdOn(threads).subscribeOn(Schedulers.boundedElastic()),
						sessionIdOn(threads).subscribeOn(Schedulers.boundedElastic())),
				sessionIdOn(threads)).subscribeOn(Schedulers.boundedElastic()), 4);
		// The last statement is subscribed wherever the previous one completed (a driver thread, or the same).
		assertThat(threads).hasSize(4);
		assertThat(List.copyOf(threads).subList(0, 3)).allSatisfy(t -> assertThat(t).startsWith("boundedElastic-"));
	}

	/** Clause 10: the binding survives parallel().runOn(...)...sequential(): concurrent rails share the connection. */
	@Test
	void bindingSurvivesParallelRails() {
		Queue<String> threads = new ConcurrentLinkedQueue<>();
		assertOneSessionThroughout(Flux.range(0, 12)
				.parallel(4)
				.runOn(Schedulers.parallel())
				.flatMap(i -> sessionIdOn(threads))
				.sequential(), 12);
		assertSomeThreadStartsWith(threads, "parallel-");
	}

	/** Clause 10: the binding survives delayElements: one session, one acquisition. */
	@Test
	void bindingSurvivesDelayElements() {
		Queue<String> threads = new ConcurrentLinkedQueue<>();
		assertOneSessionThroughout(Flux.range(0, 5)
				.delayElements(Duration.ofMillis(5))
				.concatMap(i -> sessionIdOn(threads)), 5);
		assertSomeThreadStartsWith(threads, "parallel-");
	}

	/** Clause 10: the binding survives Mono.delay between statements: one session, one acquisition. */
	@Test
	void bindingSurvivesMonoDelayBetweenStatements() {
		Queue<String> threads = new ConcurrentLinkedQueue<>();
		assertOneSessionThroughout(sessionIdOn(threads)
				.flatMap(a -> Mono.delay(Duration.ofMillis(5)).then(sessionIdOn(threads))
						.flatMap(b -> Mono.delay(Duration.ofMillis(5)).then(sessionIdOn(threads))
								.map(c -> List.of(a, b, c))))
				.flatMapIterable(l -> l)
				.concatWith(Mono.delay(Duration.ofMillis(5)).then(sessionIdOn(threads))), 4);
		assertSomeThreadStartsWith(threads, "parallel-");
	}

	/** Clause 10: in a lazy scope and in a transaction too, thread hops keep one session and one acquisition. */
	@Test
	void bindingSurvivesThreadHopsInLazyScopesAndTransactions() {
		Flux<Integer> hops = Flux.concat(
				sessionId().subscribeOn(Schedulers.boundedElastic()),
				sessionId().publishOn(Schedulers.parallel()).flatMap(a -> sessionId()),
				Mono.delay(Duration.ofMillis(5)).then(sessionId()),
				Flux.range(0, 4).parallel(2).runOn(Schedulers.parallel()).flatMap(i -> sessionId()).sequential());
		List<Function<Flux<Integer>, Flux<Integer>>> scopes = List.of(
				b -> scope.inLazyConnection(b),
				b -> scope.inTransaction(b));
		for (Function<Flux<Integer>, Flux<Integer>> s : scopes) {
			mark();
			s.apply(hops).collectList()
					.as(StepVerifier::create)
					.assertNext(ids -> {
						assertThat(ids).hasSize(7);
						assertOneDistinct(ids);
					})
					.verifyComplete();
			assertAcquiredAndReleased(1);
		}
	}

	// ---------------------------------------------------------------- 11. interleaving on one thread

	/**
	 * Clause 11: scopes subscribed on one single-thread scheduler, forced to interleave (each waits until all
	 * have run their first statement, then continues with delays on the same thread), never share a
	 * connection: each pipeline sees one session id throughout, and the ids differ across pipelines.
	 */
	@Test
	void interleavedPipelinesOnOneThreadNeverShareAConnection() {
		int pipelines = 3;
		Scheduler single = Schedulers.newSingle("tether-interleave");
		try {
			Queue<String> threads = new ConcurrentLinkedQueue<>();
			Queue<String> order = new ConcurrentLinkedQueue<>();
			AtomicInteger started = new AtomicInteger();
			Sinks.Empty<Void> allStarted = Sinks.empty();
			Flux<List<Integer>> all = Flux.range(0, pipelines).flatMap(p -> scope.inConnection(
					sessionId()
							.flatMap(first -> {
								if (started.incrementAndGet() == pipelines) {
									allStarted.tryEmitEmpty();
								}
								return allStarted.asMono().publishOn(single).thenReturn(first);
							})
							.flatMapMany(first -> Flux.range(1, 4).concatMap(i -> Mono.delay(Duration.ofMillis(1 + p), single)
									.then(sessionId())
									.publishOn(single)
									.doOnNext(id -> {
										threads.add(Thread.currentThread().getName());
										order.add(p + ":" + i);
									}))
									.startWith(first))
							.collectList())
					.subscribeOn(single));
			all.collectList()
					.as(StepVerifier::create)
					.assertNext(lists -> {
						assertThat(lists).hasSize(pipelines);
						lists.forEach(ScopeContract::assertOneDistinct);
						Set<Integer> distinct = lists.stream().map(l -> l.get(0)).collect(Collectors.toSet());
						assertThat(distinct).as("session ids of the pipelines: %s", lists).hasSize(pipelines);
					})
					.verifyComplete();
			assertThat(threads).hasSize(pipelines * 4).allSatisfy(t -> assertThat(t).startsWith("tether-interleave"));
			assertThat(new HashSet<>(threads)).hasSize(1);
			assertThat(order).hasSize(pipelines * 4);
			assertAcquiredAndReleased(pipelines);
		}
		finally {
			single.dispose();
		}
	}

	/** Clause 11: many lazy and eager pipelines on one thread, strictly alternating, each keep their own connection. */
	@Test
	void alternatingLazyAndEagerPipelinesOnOneThreadNeverShareAConnection() {
		Scheduler single = Schedulers.newSingle("tether-alternate");
		try {
			Flux<List<Integer>> all = Flux.range(0, 4).flatMap(p -> {
				Flux<Integer> body = Flux.range(0, 5).concatMap(i -> Mono.delay(Duration.ofMillis(2), single).then(sessionId()));
				Flux<Integer> scoped = p % 2 == 0 ? scope.inConnection(body) : scope.inLazyConnection(body);
				return scoped.collectList().subscribeOn(single);
			});
			all.collectList()
					.as(StepVerifier::create)
					.assertNext(lists -> {
						assertThat(lists).hasSize(4);
						lists.forEach(ScopeContract::assertOneDistinct);
					})
					.verifyComplete();
			// Each pipeline acquired its own; any two running at once necessarily had different sessions.
			assertAcquiredAndReleased(4);
		}
		finally {
			single.dispose();
		}
	}

	// ---------------------------------------------------------------- 12. back-pressure

	/** Clause 12: a Flux body's items pass through the scope at the subscriber's pace. */
	@Test
	void fluxBodyItemsPassThroughWithBackPressure() {
		Queue<Long> requests = new ConcurrentLinkedQueue<>();
		Flux<Integer> body = Flux.range(1, 6)
				.concatMap(i -> insert(i).thenReturn(i), 1)
				.doOnRequest(requests::add);
		StepVerifier.create(scope.inConnection(body), 0)
				.expectSubscription()
				.thenRequest(1)
				.expectNext(1)
				.thenRequest(2)
				.expectNext(2, 3)
				.then(() -> assertThat(rowsInsertedSoFar()).as("rows inserted after demand for 3").isLessThanOrEqualTo(4))
				.thenRequest(Long.MAX_VALUE)
				.expectNext(4, 5, 6)
				.verifyComplete();
		assertAcquiredAndReleased(1);
		assertThat(requests).as("demand the body saw").containsExactly(1L, 2L, Long.MAX_VALUE);
	}

	private long rowsInsertedSoFar() {
		return counting.statements().stream().filter(s -> s.sql().startsWith("INSERT INTO " + table)).count();
	}

	/** Clause 12: rows of a query inside a scope arrive on demand; cancelling after some releases once. */
	@Test
	void streamedRowsPassThroughWithBackPressure() {
		seed(200);
		Flux<Integer> rows = scope.inConnection(
				scope.withConnectionMany(c -> query(c, "SELECT id FROM " + table + " ORDER BY id", Integer.class)));
		StepVerifier.create(rows, 0)
				.expectSubscription()
				.thenRequest(1)
				.expectNext(1)
				.thenRequest(3)
				.expectNext(2, 3, 4)
				.thenRequest(10)
				.expectNextCount(10)
				.thenCancel()
				.verify();
		assertAcquiredAndReleased(1);

		mark();
		StepVerifier.create(scope.inLazyConnection(
						scope.withConnectionMany(c -> query(c, "SELECT id FROM " + table + " ORDER BY id", Integer.class))), 0)
				.expectSubscription()
				.thenRequest(2)
				.expectNext(1, 2)
				.thenRequest(Long.MAX_VALUE)
				.expectNextCount(198)
				.verifyComplete();
		assertAcquiredAndReleased(1);
	}

	/** The value, completion and error of a scope are signalled only after its connection was released. */
	@Test
	void signalsOnlyAfterTheConnectionIsReleased() {
		int before = counting.released();
		scope.inConnection(sessionId())
				.doOnNext(v -> assertThat(counting.released()).as("released before the value").isEqualTo(before + 1))
				.as(StepVerifier::create).expectNextCount(1).verifyComplete();
		scope.inConnection(sessionId().flux())
				.doOnComplete(() -> assertThat(counting.released()).as("released before completion").isEqualTo(before + 2))
				.as(StepVerifier::create).expectNextCount(1).verifyComplete();
		scope.inConnection(sessionId().then(Mono.<Integer>error(new IllegalStateException("boom"))))
				.doOnError(e -> assertThat(counting.released()).as("released before the error").isEqualTo(before + 3))
				.as(StepVerifier::create).verifyErrorMessage("boom");
	}
}
