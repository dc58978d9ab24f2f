package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Database;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingOperationError;
import reactor.blockhound.integration.BlockHoundIntegration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.netty.tcp.TcpResources;
import reactor.test.StepVerifier;

/**
 * Proves with BlockHound that Tether never blocks a non-blocking thread: scopes, transactions (commit,
 * rollback, cancel), nested scopes and the statement gate's contended path, driven from
 * {@link Schedulers#parallel()} over r2dbc-postgresql, whose I/O is truly non-blocking (H2 is not, so it
 * cannot take part).
 *
 * <p>BlockHound instruments the JVM for good, and failsafe runs every {@code *IT} in one JVM. So that the
 * other suites are not judged by rules they did not sign up for, detection is armed only while this class
 * runs (see {@link ArmedWhileThisSuiteRuns}). Every detection is recorded as well as thrown, so a blocking
 * call whose error a driver or pool thread swallows still fails the test.
 */
class BlockHoundIT extends DatabaseContract {

	private static final Duration LIMIT = Duration.ofSeconds(30);
	private static final List<String> detections = new CopyOnWriteArrayList<>();
	private static volatile boolean armed;

	@BeforeAll
	static void installBlockHound() {
		BlockHound.install(new ArmedWhileThisSuiteRuns());
		// Threads that were alive during install() cannot be trusted, for two reasons. A thread that made a
		// blocking call while install() ran got BlockHound's per-thread state from the interim predicates
		// install() uses for its self-test, and keeps it: it is never watched again (failsafe runs every IT in
		// one JVM, so the driver's event loops of an earlier suite may well be busy then; this made
		// blockingCallOnADriverThreadIsDetected fail about once in ten builds). And worker threads sit in a
		// frame of DelayedWorkQueue.take() entered before it was instrumented, so BlockHound's allowance for
		// that idle wait does not cover them: a later park in the same frame would count as blocking.
		// Fresh schedulers and fresh driver event loops start fresh threads.
		Schedulers.shutdownNow();
		TcpResources.disposeLoopsAndConnections();
		warmUp();
		armed = true;
	}

	@AfterAll
	static void disarm() {
		armed = false;
	}

	/**
	 * Runs every code path once before detection is armed: the first use of a class reads its bytes from a
	 * jar, which is file I/O, on whatever thread touches it first. That is class loading, not Tether or
	 * driver behaviour, and it happens once per JVM.
	 */
	private static void warmUp() {
		ConnectionPool p = Database.POSTGRES.pool(2);
		try {
			ConnectionScope s = ConnectionScope.of(new CountingConnectionFactory(p));
			String t = "t_warm_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
			s.withConnection(c -> update(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, v VARCHAR(50))")).block(LIMIT);
			s.inTransaction(s.withConnection(c -> update(c, "INSERT INTO " + t + " VALUES (1, 'a')"))
							.then(s.inTransaction(TransactionOptions.of(Propagation.NESTED),
									s.withConnection(c -> update(c, "INSERT INTO " + t + " VALUES (2, 'b')"))))
							.then(s.inTransaction(TransactionOptions.of(Propagation.REQUIRES_NEW),
									s.withConnection(c -> update(c, "INSERT INTO " + t + " VALUES (3, 'c')")))))
					.subscribeOn(Schedulers.parallel()).block(LIMIT);
			s.inTransaction(s.withConnection(c -> update(c, "INSERT INTO " + t + " VALUES (4, 'd')"))
							.then(Mono.error(new IllegalStateException("warm-up rollback"))))
					.onErrorResume(e -> Mono.empty()).block(LIMIT);
			s.inConnection(s.withConnectionMany(c -> query(c, "SELECT id FROM " + t, Integer.class))
							.flatMap(id -> s.withConnection(c -> query(c, "SELECT v FROM " + t + " WHERE id = " + id,
									String.class).single()))
							.publishOn(Schedulers.parallel()))
					.subscribeOn(Schedulers.parallel()).blockLast(LIMIT);
			s.inLazyConnection(Mono.zip(s.withConnection(c -> query(c, "SELECT 1", Integer.class).single()),
							s.withConnection(c -> query(c, "SELECT 2", Integer.class).single())))
					.subscribeOn(Schedulers.parallel()).block(LIMIT);
			s.withConnection(c -> update(c, "DROP TABLE " + t)).block(LIMIT);
		}
		finally {
			p.disposeLater().block(LIMIT);
		}
	}

	/**
	 * Wraps the thread predicates of the integrations BlockHound discovers (Reactor's, Netty's) so they only
	 * apply while this suite is armed, and re-evaluates them on every blocking call rather than once per
	 * thread. Applied last (highest priority) so that it wraps the others. It allow-lists nothing.
	 */
	private static final class ArmedWhileThisSuiteRuns implements BlockHoundIntegration {

		@Override
		public void applyTo(BlockHound.Builder builder) {
			builder.addDynamicThreadPredicate(t -> true);
			builder.nonBlockingThreadPredicate(discovered -> discovered.and(t -> armed));
			builder.blockingMethodCallback(method -> {
				detections.add(Thread.currentThread().getName() + ": " + method);
				throw new BlockingOperationError(method);
			});
		}

		@Override
		public int getPriority() {
			return Integer.MAX_VALUE;
		}
	}

	@Override
	Database database() {
		return Database.POSTGRES;
	}

	@BeforeEach
	void clearDetections() {
		detections.clear();
	}

	@AfterEach
	void assertNothingBlocked() {
		try {
			assertThat(detections).as("blocking calls on non-blocking threads").isEmpty();
		}
		finally {
			detections.clear();
		}
	}

	private Mono<Long> insert(int id) {
		return scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (" + id + ", 'v" + id + "')"));
	}

	private Mono<Integer> count() {
		return scope.withConnection(c -> query(c, "SELECT COUNT(*) FROM " + table, Number.class).single()
				.map(Number::intValue));
	}

	private Mono<Integer> sessionId() {
		return scope.withConnection(c -> query(c, "SELECT pg_backend_pid()", Number.class).single().map(Number::intValue));
	}

	/** Positive control: BlockHound is installed and armed, so a sleep on a parallel thread is caught. */
	@Test
	void blockingCallOnAParallelThreadIsDetected() {
		Mono.fromRunnable(() -> {
					try {
						Thread.sleep(1);
					}
					catch (InterruptedException e) {
						Thread.currentThread().interrupt();
					}
				})
				.subscribeOn(Schedulers.parallel())
				.as(StepVerifier::create)
				.expectError(BlockingOperationError.class)
				.verify(LIMIT);
		assertThat(detections).singleElement().asString().contains("java.lang.Thread.sleep");
		detections.clear();
	}

	/**
	 * Positive control for the driver's threads, where most of Tether's callbacks run: a sleep in a row
	 * callback on the Netty event loop is caught too. Which thread hands a row over is a race inside the driver
	 * (the event loop, or the thread whose request drains rows that arrived before its demand), so the probe
	 * streams 20,000 rows, more than can have arrived before the first request, and sleeps only when a row comes
	 * on the driver's event loop; if BlockHound did not watch those threads, nothing would be detected.
	 * (On H2 there is no event loop; this class runs on PostgreSQL only.)
	 */
	@Test
	void blockingCallOnADriverThreadIsDetected() {
		for (int attempt = 0; attempt < 10 && detections.isEmpty(); attempt++) {
			scope.withConnection(c -> query(c, "SELECT g FROM generate_series(1, 20000) g", Integer.class)
							.doOnNext(g -> {
								if (Thread.currentThread().getName().startsWith(DRIVER_EVENT_LOOP)) {
									try {
										Thread.sleep(1);
									}
									catch (InterruptedException e) {
										Thread.currentThread().interrupt();
									}
								}
							})
							.then())
					.onErrorResume(BlockingOperationError.class, e -> Mono.empty())
					.block(LIMIT);
		}
		assertThat(detections).as("a sleep on the driver's event loop was detected").isNotEmpty();
		assertThat(detections.get(0)).startsWith(DRIVER_EVENT_LOOP).contains("java.lang.Thread.sleep");
		detections.clear();
	}

	/** reactor-netty's name for the event-loop threads r2dbc-postgresql runs on. */
	private static final String DRIVER_EVENT_LOOP = "reactor-tcp-";

	/** Connection scopes subscribed on parallel threads, more at once than the pool holds, never block. */
	@Test
	void connectionScopesOnParallelThreadsDoNotBlock() {
		Flux.range(0, 12)
				.flatMap(i -> scope.inConnection(sessionId().publishOn(Schedulers.parallel())
								.flatMap(before -> insert(i).then(sessionId()).map(after -> after.equals(before))))
						.subscribeOn(Schedulers.parallel()))
				.as(StepVerifier::create)
				.expectNextCount(12)
				.expectComplete()
				.verify(LIMIT);
		count().as(StepVerifier::create).expectNext(12).verifyComplete();
	}

	/** A committing transaction run from a parallel thread never blocks. */
	@Test
	void transactionCommitOnParallelThreadsDoesNotBlock() {
		scope.inTransaction(insert(1).then(insert(2)).publishOn(Schedulers.parallel()).then(insert(3)))
				.subscribeOn(Schedulers.parallel())
				.as(StepVerifier::create)
				.expectNext(1L)
				.expectComplete()
				.verify(LIMIT);
		count().as(StepVerifier::create).expectNext(3).verifyComplete();
	}

	/** A transaction rolled back by an error, on parallel threads, never blocks. */
	@Test
	void transactionRollbackOnParallelThreadsDoesNotBlock() {
		scope.inTransaction(insert(1).publishOn(Schedulers.parallel())
						.then(Mono.<Long>error(new IllegalStateException("boom"))))
				.subscribeOn(Schedulers.parallel())
				.as(StepVerifier::create)
				.expectErrorMessage("boom")
				.verify(LIMIT);
		count().as(StepVerifier::create).expectNext(0).verifyComplete();
	}

	/** Cancelling a transaction mid-body, from a parallel thread, rolls back and releases without blocking. */
	@Test
	void transactionCancelOnParallelThreadsDoesNotBlock() {
		Sinks.Empty<Void> inserted = Sinks.empty();
		Mono<Long> tx = scope.inTransaction(insert(1)
				.doOnSuccess(n -> inserted.tryEmitEmpty())
				.then(Mono.<Long>never()))
				.subscribeOn(Schedulers.parallel());

		tx.as(StepVerifier::create)
				.expectSubscription()
				.then(() -> inserted.asMono().block(LIMIT))
				.thenCancel()
				.verify(LIMIT);
		Leaks.assertAllReleased(counting, pool);
		count().as(StepVerifier::create).expectNext(0).verifyComplete();
	}

	/** A cancel that arrives while COMMIT is held lets the commit finish, without blocking. */
	@Test
	void cancelDuringCommitOnParallelThreadsDoesNotBlock() {
		Sinks.Empty<Void> commitReached = Sinks.empty();
		Sinks.Empty<Void> commitGo = Sinks.empty();
		counting.beforeCommit(() -> Mono.fromRunnable(commitReached::tryEmitEmpty).then(commitGo.asMono()));

		StepVerifier.create(scope.inTransaction(insert(1)).subscribeOn(Schedulers.parallel()))
				.expectSubscription()
				.then(() -> commitReached.asMono().block(LIMIT))
				.thenCancel()
				.verify(LIMIT);
		Mono.fromRunnable(commitGo::tryEmitEmpty).subscribeOn(Schedulers.parallel()).block(LIMIT);

		Leaks.assertAllReleased(counting, pool);
		count().as(StepVerifier::create).expectNext(1).verifyComplete();
	}

	/** Nested scopes: a connection scope around a transaction with a savepoint and a REQUIRES_NEW inside. */
	@Test
	void nestedScopesOnParallelThreadsDoNotBlock() {
		Mono<Integer> nested = scope.inConnection(sessionId().flatMap(outer -> scope.inTransaction(
				insert(1)
						.then(scope.inTransaction(TransactionOptions.of(Propagation.NESTED),
								insert(2).publishOn(Schedulers.parallel()).then(Mono.error(new IllegalStateException("undo 2"))))
								.onErrorResume(e -> Mono.empty()))
						.then(scope.inTransaction(TransactionOptions.of(Propagation.REQUIRES_NEW),
								insert(3).then(sessionId())).publishOn(Schedulers.parallel()))
						.flatMap(inner -> scope.inConnection(sessionId()).map(again -> {
							assertThat(inner).as("REQUIRES_NEW runs on a session of its own").isNotEqualTo(outer);
							return again.equals(outer) ? 1 : 0;
						})))))
				.subscribeOn(Schedulers.parallel());

		nested.as(StepVerifier::create).expectNext(1).expectComplete().verify(LIMIT);
		scope.withConnection(c -> query(c, "SELECT id FROM " + table + " ORDER BY id", Integer.class).collectList())
				.as(StepVerifier::create).expectNext(List.of(1, 3)).verifyComplete();
	}

	/**
	 * The gate's contended path: a query per row of a still-streaming query on the same connection, with
	 * the rows hopping to parallel threads, never blocks.
	 */
	@Test
	void gateContendedPathOnParallelThreadsDoesNotBlock() {
		scope.withConnection(c -> update(c, "INSERT INTO " + table + " SELECT g, 'r' || g FROM generate_series(1, 300) g"))
				.block(LIMIT);
		Flux<String> joined = scope.inConnection(
				scope.withConnectionMany(c -> query(c, "SELECT id FROM " + table + " ORDER BY id", Integer.class))
						.publishOn(Schedulers.parallel())
						.flatMap(id -> scope.withConnection(c -> query(c, "SELECT v FROM " + table + " WHERE id = " + id,
								String.class).single()).publishOn(Schedulers.parallel())))
				.subscribeOn(Schedulers.parallel());

		joined.as(StepVerifier::create).expectNextCount(300).expectComplete().verify(LIMIT);
	}

	/** Lazy acquisition triggered by two statements at once, from parallel threads, never blocks. */
	@Test
	void lazyAcquisitionOnParallelThreadsDoesNotBlock() {
		int before = counting.acquired();
		scope.inLazyConnection(Mono.zip(sessionId().subscribeOn(Schedulers.parallel()),
						sessionId().subscribeOn(Schedulers.parallel())))
				.subscribeOn(Schedulers.parallel())
				.as(StepVerifier::create)
				.assertNext(t -> assertThat(t.getT1()).isEqualTo(t.getT2()))
				.expectComplete()
				.verify(LIMIT);
		assertThat(counting.acquired() - before).isEqualTo(1);
	}
}
