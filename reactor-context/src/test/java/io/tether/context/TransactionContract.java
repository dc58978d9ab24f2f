package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Database;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;
import reactor.test.subscriber.TestSubscriber;

/**
 * The transaction contract of {@link ConnectionScope#inTransaction}, run on every database by a subclass:
 * commit and rollback, cancellation at every stage, propagation, options, and the session state a pooled
 * connection is returned with. Each test ends by proving that every connection acquired was released
 * exactly once and the pool is fully returned.
 */
abstract class TransactionContract extends DatabaseContract {

	static final Duration TIMEOUT = Duration.ofSeconds(30);

	/** SQL returning the isolation level the server applies to the current transaction, as text. */
	abstract String currentIsolationSql();

	/** What {@link #currentIsolationSql()} returns, lower case, inside a transaction begun with {@code level}. */
	String expectedServerIsolation(IsolationLevel level) {
		return level.asSql().toLowerCase();
	}

	// ---------------------------------------------------------------- helpers

	protected Mono<Long> insert(int id) {
		return insert(scope, id);
	}

	protected Mono<Long> insert(ConnectionScope s, int id) {
		return s.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (" + id + ", 'v')"));
	}

	protected Mono<Integer> sessionId() {
		return sessionId(scope);
	}

	protected Mono<Integer> sessionId(ConnectionScope s) {
		return s.withConnection(c -> query(c, database().sessionIdSql(), Number.class).single().map(Number::intValue));
	}

	/** The ids committed in the table, read outside any pipeline, so on a connection of its own. */
	protected List<Integer> committedIds() {
		return scope.withConnection(c -> query(c, "SELECT id FROM " + table + " ORDER BY id", Number.class)
				.map(Number::intValue).collectList()).block(TIMEOUT);
	}

	/** Transaction commands as the connections saw them, e.g. {@code 2:BEGIN}, {@code 2:COMMIT}. */
	protected List<String> txCommands() {
		return txCommands(counting);
	}

	static List<String> txCommands(CountingConnectionFactory f) {
		return f.commands().stream().map(TransactionContract::normalize).filter(c -> c != null).toList();
	}

	private static String normalize(String command) {
		int colon = command.indexOf(':');
		String id = command.substring(0, colon);
		String sql = command.substring(colon + 1);
		for (String verb : List.of("BEGIN", "COMMIT", "ROLLBACK TO", "ROLLBACK", "SAVEPOINT", "RELEASE")) {
			if (sql.startsWith(verb)) {
				return id + ":" + verb;
			}
		}
		return null;
	}

	static void await(BooleanSupplier condition, String what) {
		long deadline = System.nanoTime() + TIMEOUT.toNanos();
		while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
			try {
				Thread.sleep(5);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new AssertionError(e);
			}
		}
		assertThat(condition.getAsBoolean()).as(what).isTrue();
	}

	/** Holds one stage (acquire, BEGIN, COMMIT) of a connection until the test releases it. */
	static final class Hold {

		private final Sinks.Empty<Void> gate = Sinks.empty();
		private final CountDownLatch reached = new CountDownLatch(1);

		Supplier<Mono<Void>> hook() {
			return () -> Mono.defer(() -> {
				reached.countDown();
				return gate.asMono();
			});
		}

		void awaitReached() {
			try {
				assertThat(reached.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).as("held stage reached").isTrue();
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new AssertionError(e);
			}
		}

		void release() {
			gate.tryEmitEmpty();
		}
	}

	/** A second pool of maxSize 1 over the same database (so the same table), with its own counters and scope. */
	protected final class Small implements AutoCloseable {

		final ConnectionPool pool;
		final CountingConnectionFactory counting;
		final ConnectionScope scope;

		Small(UnaryOperator<ConnectionScope.Builder> config) {
			pool = Database.pool(TransactionContract.this.pool.unwrap(), 1, Duration.ofSeconds(30));
			counting = new CountingConnectionFactory(pool);
			scope = config.apply(ConnectionScope.builder(counting).name("small")).build();
		}

		/** Server session id, auto-commit, client-side and server-side isolation of the one pooled connection. */
		String sessionState() {
			return scope.withConnection(c -> query(c, database().sessionIdSql(), Number.class).single()
					.zipWith(query(c, currentIsolationSql(), String.class).single())
					.map(t -> t.getT1() + "/autoCommit=" + c.isAutoCommit() + "/"
							+ c.getTransactionIsolationLevel().asSql() + "/" + t.getT2().toLowerCase()))
					.block(TIMEOUT);
		}

		@Override
		public void close() {
			try {
				Leaks.assertAllReleased(counting, pool);
			}
			finally {
				pool.disposeLater().block(TIMEOUT);
			}
		}
	}

	protected Small small(UnaryOperator<ConnectionScope.Builder> config) {
		return new Small(config);
	}

	// ---------------------------------------------------------------- 1. commit, rollback, cancel

	/** Clause 1: complete commits; the data is visible from another connection afterwards. */
	@Test
	void commitsOnCompleteAndDataIsVisibleFromAnotherConnection() {
		scope.inTransaction(insert(1).then(insert(2)))
				.as(StepVerifier::create).expectNext(1L).expectComplete().verify(TIMEOUT);
		assertThat(committedIds()).containsExactly(1, 2);
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:COMMIT");
	}

	/** Clause 1: an error rolls back and the original error reaches the subscriber unchanged. */
	@Test
	void rollsBackOnErrorAndPassesTheOriginalError() {
		IllegalStateException boom = new IllegalStateException("boom");
		scope.inTransaction(insert(1).then(Mono.<Long>error(boom)))
				.as(StepVerifier::create).expectErrorSatisfies(e -> assertThat(e).isSameAs(boom)).verify(TIMEOUT);
		assertThat(committedIds()).isEmpty();
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:ROLLBACK");
	}

	/** Clause 1: a failing ROLLBACK is attached to the body's error as suppressed; the body's error wins. */
	@Test
	void rollbackFailureIsAttachedAsSuppressedToTheOriginalError() {
		AtomicInteger rollbacks = new AtomicInteger();
		counting.beforeRollback(() -> rollbacks.getAndIncrement() == 0
				? Mono.error(new IllegalStateException("rollback refused")) : Mono.empty());
		scope.inTransaction(insert(1).then(Mono.<Long>error(new IllegalStateException("boom"))))
				.as(StepVerifier::create)
				.expectErrorSatisfies(e -> {
					assertThat(e).hasMessage("boom");
					assertThat(e.getSuppressed()).anySatisfy(s -> assertThat(s).hasMessage("rollback refused"));
				})
				.verify(TIMEOUT);
		Leaks.assertAllReleased(counting, pool);
		assertThat(committedIds()).as("committed after a failed ROLLBACK; commands: %s", counting.commands()).isEmpty();
		// The release rolled back what the failed ROLLBACK left open.
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:ROLLBACK");
	}

	/** Clause 1: cancelling a Flux body mid-way rolls back what it already wrote. */
	@Test
	void rollsBackWhenTheFluxBodyIsCancelledMidway() {
		Flux<Long> body = Flux.concat(insert(1), insert(2), Mono.never());
		scope.inTransaction(body)
				.as(StepVerifier::create).expectNext(1L, 1L).thenCancel().verify(TIMEOUT);
		Leaks.assertAllReleased(counting, pool);
		assertThat(committedIds()).isEmpty();
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:ROLLBACK");
	}

	/** Clause 1: the Mono flavour emits its value only after COMMIT has finished. */
	@Test
	void monoEmitsItsValueOnlyAfterCommit() {
		Hold commit = new Hold();
		counting.beforeCommit(commit.hook());
		AtomicBoolean emitted = new AtomicBoolean();
		AtomicReference<List<String>> commandsAtValue = new AtomicReference<>();
		scope.inTransaction(insert(1))
				.doOnNext(v -> {
					emitted.set(true);
					commandsAtValue.set(txCommands());
				})
				.as(StepVerifier::create)
				.then(commit::awaitReached)
				.then(() -> assertThat(emitted).as("value emitted while COMMIT is held").isFalse())
				.then(commit::release)
				.expectNext(1L)
				.expectComplete()
				.verify(TIMEOUT);
		assertThat(commandsAtValue.get()).containsExactly("2:BEGIN", "2:COMMIT");
	}

	/** Clause 1: the Flux flavour delivers items as they come but completes only after COMMIT. */
	@Test
	void fluxCompletesOnlyAfterCommit() {
		Hold commit = new Hold();
		counting.beforeCommit(commit.hook());
		TestSubscriber<Long> ts = TestSubscriber.create();
		scope.inTransaction(Flux.concat(insert(1), insert(2))).subscribe(ts);
		commit.awaitReached();
		assertThat(ts.getReceivedOnNext()).containsExactly(1L, 1L);
		assertThat(ts.isTerminated()).as("completed while COMMIT is held").isFalse();
		commit.release();
		ts.block(TIMEOUT);
		assertThat(ts.isTerminatedComplete()).isTrue();
		assertThat(committedIds()).containsExactly(1, 2);
	}

	// ---------------------------------------------------------------- 2. commit failure

	/** Clause 2: a failing COMMIT is signalled as the error, nothing is committed, and the connection is released. */
	@Test
	void commitFailureSurfacesAsErrorAndTheConnectionIsReleased() {
		counting.beforeCommit(() -> Mono.error(new IllegalStateException("commit refused")));
		scope.inTransaction(insert(1))
				.as(StepVerifier::create).expectErrorMessage("commit refused").verify(TIMEOUT);
		Leaks.assertAllReleased(counting, pool);
		counting.beforeCommit(Mono::empty);
		assertThat(committedIds()).as("committed after a failed COMMIT; commands: %s", counting.commands()).isEmpty();
		// The transaction the COMMIT never ended was rolled back before the connection went back.
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:ROLLBACK");
	}

	// ---------------------------------------------------------------- 3. cancel at every stage

	/** Clause 3: cancel during BEGIN: the body never runs, BEGIN finishes, ROLLBACK, connection released. */
	@Test
	void cancelDuringBeginNeverRunsTheBodyAndRollsBack() {
		Hold begin = new Hold();
		counting.beforeBegin(begin.hook());
		AtomicBoolean bodyRan = new AtomicBoolean();
		TestSubscriber<Long> ts = TestSubscriber.create();
		scope.inTransaction(Mono.defer(() -> {
			bodyRan.set(true);
			return insert(1);
		})).subscribe(ts);
		begin.awaitReached();
		ts.cancel();
		begin.release();
		Leaks.assertAllReleased(counting, pool);
		assertThat(bodyRan).as("body ran").isFalse();
		assertThat(ts.getReceivedOnNext()).isEmpty();
		assertThat(ts.isTerminated()).isFalse();
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:ROLLBACK");
		assertThat(committedIds()).isEmpty();
	}

	/** Clause 3: cancel during COMMIT: the commit finishes, the connection is released, nothing is signalled. */
	@Test
	void cancelDuringCommitLetsTheCommitFinishWithoutSignal() {
		Hold commit = new Hold();
		counting.beforeCommit(commit.hook());
		TestSubscriber<Long> ts = TestSubscriber.create();
		scope.inTransaction(insert(1)).subscribe(ts);
		commit.awaitReached();
		ts.cancel();
		commit.release();
		Leaks.assertAllReleased(counting, pool);
		assertThat(ts.getReceivedOnNext()).isEmpty();
		assertThat(ts.isTerminated()).as("signalled after cancel").isFalse();
		assertThat(committedIds()).containsExactly(1);
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:COMMIT");
	}

	/**
	 * Clause 3: a cancel during COMMIT does not reach the body, which has completed: its cancel hooks do not
	 * run. (They did: the scope cancelled the finished body, so a joined inner scope marked the transaction
	 * rollback-only as if it had been cut short, and a cancel landing between the body's completion and the
	 * commit decision turned the COMMIT into a ROLLBACK whose error nobody could receive. The storm found it.)
	 */
	@Test
	void cancelDuringCommitDoesNotReachTheCompletedBody() {
		Hold commit = new Hold();
		counting.beforeCommit(commit.hook());
		AtomicBoolean bodyCancelled = new AtomicBoolean();
		AtomicBoolean innerCancelled = new AtomicBoolean();
		TestSubscriber<Long> ts = TestSubscriber.create();
		scope.inTransaction(scope.inTransaction(insert(1).then()).doOnCancel(() -> innerCancelled.set(true))
						.then(insert(2)).doOnCancel(() -> bodyCancelled.set(true)))
				.subscribe(ts);
		commit.awaitReached();
		ts.cancel();
		commit.release();
		Leaks.assertAllReleased(counting, pool);
		assertThat(bodyCancelled).as("the completed body was cancelled").isFalse();
		assertThat(innerCancelled).as("the completed joined scope was cancelled").isFalse();
		assertThat(committedIds()).containsExactly(1, 2);
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:COMMIT");
	}

	/** Clause 3: cancel in onSubscribe, before the acquisition: the body never runs and the connection is released. */
	@Test
	void cancelBeforeAcquireNeverRunsTheBody() {
		AtomicBoolean bodyRan = new AtomicBoolean();
		scope.inTransaction(Mono.defer(() -> {
			bodyRan.set(true);
			return insert(1);
		})).subscribe(new BaseSubscriber<Long>() {
			@Override
			protected void hookOnSubscribe(Subscription subscription) {
				cancel();
			}
		});
		// Cancelled before it asked for a connection: it never asks (setUp made the only acquisition).
		Leaks.assertAllReleased(counting, pool);
		assertThat(counting.createSubscriptions()).as("acquisitions started").isEqualTo(1);
		assertThat(bodyRan).as("body ran").isFalse();
		assertThat(txCommands()).doesNotContain("2:COMMIT");
		assertThat(committedIds()).isEmpty();
	}

	/** Clause 3: cancel while the connection is being acquired: it is released when it arrives; the body never runs. */
	@Test
	void cancelDuringAcquireReleasesTheLateConnection() {
		Hold acquire = new Hold();
		counting.beforeAcquire(acquire.hook());
		AtomicBoolean bodyRan = new AtomicBoolean();
		TestSubscriber<Long> ts = TestSubscriber.create();
		scope.inTransaction(Mono.defer(() -> {
			bodyRan.set(true);
			return insert(1);
		})).subscribe(ts);
		acquire.awaitReached();
		ts.cancel();
		assertThat(counting.acquired()).as("acquired before the hold was released").isEqualTo(1);
		acquire.release();
		await(() -> counting.acquired() == 2, "the late connection arrived");
		Leaks.assertAllReleased(counting, pool);
		assertThat(bodyRan).as("body ran").isFalse();
		assertThat(ts.isTerminated()).isFalse();
		assertThat(txCommands()).doesNotContain("2:COMMIT");
		assertThat(committedIds()).isEmpty();
	}

	/**
	 * Clause 3: a statement whose subscriber cancels in {@code onSubscribe} ({@code takeUntilOther} whose other
	 * already fired; the same happens when a cancel races with a statement being subscribed, as in
	 * PostgresTransactionSafetyIT) must not stall the statements, the COMMIT and the release after it.
	 */
	@Test
	void statementCancelledAtSubscriptionDoesNotStallTheTransaction() {
		scope.inTransaction(scope.withConnection(c -> Flux.from(c.createStatement("SELECT 1").execute())
								.takeUntilOther(Mono.just("stop")).then())
						.then(insert(1)))
				.as(StepVerifier::create).expectNext(1L).expectComplete()
				// bounded so that a stalled connection fails the test instead of hanging it
				.verify(Duration.ofSeconds(10));
		assertThat(committedIds()).containsExactly(1);
	}

	// ---------------------------------------------------------------- 4. REQUIRED and rollback-only

	/** Clause 4: REQUIRED inside a transaction joins it: one connection, one BEGIN, one COMMIT. */
	@Test
	void requiredJoinsTheActiveTransaction() {
		scope.inTransaction(sessionId().flatMap(outer -> scope.inTransaction(insert(1).then(sessionId()))
						.map(inner -> inner.equals(outer))))
				.as(StepVerifier::create).expectNext(true).expectComplete().verify(TIMEOUT);
		assertThat(counting.acquired()).isEqualTo(2); // setUp + this transaction
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:COMMIT");
		assertThat(committedIds()).containsExactly(1);
	}

	/** Clause 4: a joined inner scope that fails, its error swallowed, makes the outer fail with UnexpectedRollbackException. */
	@Test
	void swallowedInnerFailureRollsBackWithUnexpectedRollback() {
		IllegalStateException inner = new IllegalStateException("inner");
		scope.inTransaction(insert(1)
						.then(scope.inTransaction(insert(2).then(Mono.<Long>error(inner))).onErrorResume(e -> Mono.empty()))
						.then(insert(3)))
				.as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(UnexpectedRollbackException.class).hasCause(inner))
				.verify(TIMEOUT);
		assertThat(committedIds()).isEmpty();
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:ROLLBACK");
	}

	/**
	 * Clause 4: a joined inner scope that has completed is not cut short by a cancel that reaches it afterwards,
	 * so the outer commits. Reactor's operators do send such cancels: {@code Flux.zip} cancels all its sources,
	 * finished ones too, when one completes empty. (The join marked rollback-only on any cancel of a body
	 * without a value, and the outer rolled back with UnexpectedRollbackException although all its work was done.)
	 */
	@Test
	void cancelAfterAJoinedScopeCompletedDoesNotMarkRollbackOnly() {
		AtomicBoolean cancelledAfterCompletion = new AtomicBoolean();
		AtomicBoolean completed = new AtomicBoolean();
		Mono<Void> joined = scope.inTransaction(insert(1).then())
				.doOnSuccess(v -> completed.set(true))
				.doOnCancel(() -> cancelledAfterCompletion.set(completed.get()));
		scope.inTransaction(Flux.zip(joined, Mono.just("x")).then(insert(3)))
				.as(StepVerifier::create).expectNext(1L).expectComplete().verify(TIMEOUT);
		assertThat(cancelledAfterCompletion).as("zip cancelled the completed joined scope").isTrue();
		assertThat(committedIds()).containsExactly(1, 3);
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:COMMIT");
	}

	/** Clause 4: setRollbackOnly() rolls back and the scope completes normally; isRollbackOnly() reports the mark. */
	@Test
	void setRollbackOnlyRollsBackAndCompletesNormally() {
		scope.inTransaction(insert(1)
						.then(scope.isRollbackOnly())
						.flatMap(before -> scope.setRollbackOnly().then(scope.isRollbackOnly()).map(after -> before + "->" + after)))
				.as(StepVerifier::create).expectNext("false->true").expectComplete().verify(TIMEOUT);
		assertThat(committedIds()).isEmpty();
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:ROLLBACK");
	}

	/** Clause 4: setRollbackOnly() and isRollbackOnly() outside a transaction fail with IllegalTransactionStateException. */
	@Test
	void rollbackOnlyOutsideATransactionFails() {
		scope.setRollbackOnly()
				.as(StepVerifier::create).expectError(IllegalTransactionStateException.class).verify(TIMEOUT);
		scope.isRollbackOnly()
				.as(StepVerifier::create).expectError(IllegalTransactionStateException.class).verify(TIMEOUT);
		// A bound connection without a transaction is no transaction either.
		scope.inConnection(insert(1).then(scope.setRollbackOnly()))
				.as(StepVerifier::create).expectError(IllegalTransactionStateException.class).verify(TIMEOUT);
		assertThat(committedIds()).containsExactly(1);
	}

	// ---------------------------------------------------------------- 5. REQUIRED on a bound connection

	/** Clause 5: REQUIRED inside inConnection begins on the bound connection and leaves its release to the outer scope. */
	@Test
	void requiredInsideInConnectionBeginsOnTheBoundConnectionWithoutReleasingIt() {
		List<Integer> sessions = new CopyOnWriteArrayList<>();
		AtomicInteger releasedAfterTx = new AtomicInteger(-1);
		AtomicBoolean inTxAfter = new AtomicBoolean(true);
		scope.inConnection(sessionId().doOnNext(sessions::add)
						.then(scope.inTransaction(insert(1).then(sessionId())).doOnNext(sessions::add))
						.then(Mono.fromRunnable(() -> releasedAfterTx.set(counting.released())))
						.then(scope.isInTransaction()).doOnNext(inTxAfter::set)
						.then(insert(2).then(sessionId()).doOnNext(sessions::add)))
				.as(StepVerifier::create).expectNextCount(1).expectComplete().verify(TIMEOUT);
		assertThat(sessions).hasSize(3).containsOnly(sessions.get(0));
		assertThat(releasedAfterTx.get()).as("released when the inner transaction ended").isEqualTo(1); // setUp only
		assertThat(inTxAfter).as("still in a transaction after it ended").isFalse();
		assertThat(counting.acquired()).isEqualTo(2);
		assertThat(counting.released()).isEqualTo(2);
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:COMMIT");
		assertThat(committedIds()).containsExactly(1, 2);
	}

	// ---------------------------------------------------------------- 6. REQUIRES_NEW

	/** Clause 6: REQUIRES_NEW runs on a second connection, commits on its own even if the outer rolls back. */
	@Test
	void requiresNewCommitsIndependentlyOnASecondConnection() {
		AtomicInteger outerBefore = new AtomicInteger();
		AtomicInteger inner = new AtomicInteger();
		AtomicInteger outerAfter = new AtomicInteger();
		scope.inTransaction(insert(1)
						.then(sessionId()).doOnNext(outerBefore::set)
						.then(scope.inTransaction(TransactionOptions.of(Propagation.REQUIRES_NEW), insert(2).then(sessionId())))
						.doOnNext(inner::set)
						.then(sessionId()).doOnNext(outerAfter::set)
						.then(Mono.<Long>error(new IllegalStateException("outer fails"))))
				.as(StepVerifier::create).expectErrorMessage("outer fails").verify(TIMEOUT);
		assertThat(inner.get()).as("inner session").isNotEqualTo(outerBefore.get());
		assertThat(outerAfter.get()).as("outer binding after the inner scope").isEqualTo(outerBefore.get());
		assertThat(committedIds()).containsExactly(2);
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:ROLLBACK", "3:BEGIN", "3:COMMIT");
	}

	/** Clause 6: with a pool of one, REQUIRES_NEW inside a transaction fails fast with ConnectionUnavailableException. */
	@Test
	void requiresNewFailsFastWhenThePoolIsExhausted() {
		try (Small small = small(b -> b.requiresNewAcquireTimeout(Duration.ofMillis(300)))) {
			small.scope.inTransaction(insert(small.scope, 1)
							.then(small.scope.inTransaction(TransactionOptions.of(Propagation.REQUIRES_NEW), insert(small.scope, 2))))
					.as(StepVerifier::create)
					.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConnectionUnavailableException.class)
							.hasMessageContaining("REQUIRES_NEW"))
					.verify(TIMEOUT);
			// The abandoned acquisition still gets the connection once the outer released it, and closes it at once.
			await(() -> small.counting.acquired() == 2, "the late REQUIRES_NEW connection arrived");
			assertThat(txCommands(small.counting)).containsExactly("1:BEGIN", "1:ROLLBACK");
		}
		assertThat(committedIds()).isEmpty();
	}

	// ---------------------------------------------------------------- 7. NESTED, MANDATORY, NEVER

	/** Clause 7: NESTED rolls back only its savepoint on error; the outer recovers and commits its own work. */
	@Test
	void nestedErrorRollsBackOnlyTheSavepoint() {
		AtomicReference<Throwable> nestedError = new AtomicReference<>();
		TransactionOptions nested = TransactionOptions.of(Propagation.NESTED);
		scope.inTransaction(insert(1)
						.then(scope.inTransaction(nested, insert(2).then(insert(1))) // duplicate key: a real SQL error
								.onErrorResume(e -> {
									nestedError.set(e);
									return Mono.empty();
								}))
						.then(insert(3)))
				.as(StepVerifier::create).expectNext(1L).expectComplete().verify(TIMEOUT);
		assertThat(nestedError.get()).isInstanceOf(R2dbcDataIntegrityViolationException.class);
		assertThat(committedIds()).containsExactly(1, 3);
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:SAVEPOINT", "2:ROLLBACK TO", "2:COMMIT");
	}

	/** Clause 7: NESTED without an active transaction behaves like REQUIRED: a transaction of its own. */
	@Test
	void nestedWithoutATransactionBeginsOne() {
		scope.inTransaction(TransactionOptions.of(Propagation.NESTED), insert(1).then(scope.isInTransaction()))
				.as(StepVerifier::create).expectNext(true).expectComplete().verify(TIMEOUT);
		scope.inTransaction(TransactionOptions.of(Propagation.NESTED), insert(2).then(Mono.<Long>error(new IllegalStateException("x"))))
				.as(StepVerifier::create).expectErrorMessage("x").verify(TIMEOUT);
		assertThat(committedIds()).containsExactly(1);
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:COMMIT", "3:BEGIN", "3:ROLLBACK");
	}

	/** Clause 7: MANDATORY without a transaction fails before acquiring anything. */
	@Test
	void mandatoryWithoutATransactionFails() {
		AtomicBoolean bodyRan = new AtomicBoolean();
		scope.inTransaction(TransactionOptions.of(Propagation.MANDATORY), Mono.fromRunnable(() -> bodyRan.set(true)))
				.as(StepVerifier::create).expectError(IllegalTransactionStateException.class).verify(TIMEOUT);
		assertThat(bodyRan).isFalse();
		assertThat(counting.createSubscriptions()).isEqualTo(1); // setUp only
	}

	/** Clause 7: MANDATORY inside a transaction joins it. */
	@Test
	void mandatoryInsideATransactionJoins() {
		scope.inTransaction(sessionId().flatMap(outer -> scope.inTransaction(TransactionOptions.of(Propagation.MANDATORY),
						insert(1).then(sessionId())).map(outer::equals)))
				.as(StepVerifier::create).expectNext(true).expectComplete().verify(TIMEOUT);
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:COMMIT");
		assertThat(committedIds()).containsExactly(1);
	}

	/** Clause 7: NEVER inside a transaction fails with IllegalTransactionStateException; the outer rolls back. */
	@Test
	void neverInsideATransactionFails() {
		scope.inTransaction(insert(1).then(scope.inTransaction(TransactionOptions.of(Propagation.NEVER), insert(2))))
				.as(StepVerifier::create).expectError(IllegalTransactionStateException.class).verify(TIMEOUT);
		assertThat(committedIds()).isEmpty();
	}

	/** Clause 7: NEVER outside a transaction runs without one: each statement is committed on its own. */
	@Test
	void neverOutsideATransactionRunsWithoutOne() {
		scope.inTransaction(TransactionOptions.of(Propagation.NEVER), scope.isInTransaction()
						.flatMap(inTx -> insert(1).thenReturn(inTx)))
				.as(StepVerifier::create).expectNext(false).expectComplete().verify(TIMEOUT);
		scope.inTransaction(TransactionOptions.of(Propagation.NEVER), insert(2).then(Mono.<Long>error(new IllegalStateException("x"))))
				.as(StepVerifier::create).expectErrorMessage("x").verify(TIMEOUT);
		assertThat(committedIds()).containsExactly(1, 2); // no rollback: there was no transaction
		assertThat(txCommands()).isEmpty();
	}

	// ---------------------------------------------------------------- 8. options (generic part)

	/** Clause 8: SERIALIZABLE reaches the connection, and the server as far as the driver passes it on. */
	@Test
	void serializableIsolationIsApplied() {
		TransactionOptions serializable = TransactionOptions.builder().isolationLevel(IsolationLevel.SERIALIZABLE).build();
		scope.inTransaction(serializable, scope.withConnection(c -> query(c, currentIsolationSql(), String.class).single()
						.map(server -> c.getTransactionIsolationLevel().asSql() + "/" + server.toLowerCase())))
				.as(StepVerifier::create)
				.expectNext("SERIALIZABLE/" + expectedServerIsolation(IsolationLevel.SERIALIZABLE))
				.expectComplete()
				.verify(TIMEOUT);
	}

	// ---------------------------------------------------------------- 9. session restored before release

	/** Clause 9: after commit, rollback or rollback-only, the pooled connection is back in auto-commit with its isolation. */
	@Test
	void autoCommitAndIsolationAreRestoredBeforeRelease() {
		TransactionOptions serializable = TransactionOptions.builder().isolationLevel(IsolationLevel.SERIALIZABLE).build();
		try (Small small = small(b -> b)) {
			String before = small.sessionState();
			assertThat(before).contains("/autoCommit=true/").doesNotContainIgnoringCase("serializable");

			small.scope.inTransaction(serializable, insert(small.scope, 1)).block(TIMEOUT);
			assertThat(small.sessionState()).as("after commit").isEqualTo(before);

			small.scope.inTransaction(serializable, insert(small.scope, 2).then(Mono.<Long>error(new IllegalStateException("x"))))
					.onErrorResume(e -> Mono.empty()).block(TIMEOUT);
			assertThat(small.sessionState()).as("after rollback").isEqualTo(before);

			small.scope.inTransaction(serializable, insert(small.scope, 3).then(small.scope.setRollbackOnly())).block(TIMEOUT);
			assertThat(small.sessionState()).as("after rollback-only").isEqualTo(before);

			assertThat(small.counting.acquired()).as("one physical connection served all").isGreaterThan(1);
		}
		assertThat(committedIds()).containsExactly(1);
	}

	/** Helper for subclasses: the first value of {@code sql} on the bound connection. */
	static <T> Mono<T> single(Connection c, String sql, Class<T> type) {
		return query(c, sql, type).single();
	}
}
