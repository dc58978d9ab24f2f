package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The "slow requests" experiment of the FastAPI + Peewee guide, in Reactor: ten overlapping requests
 * interleaved on ONE thread, each holding its own connection while it waits, the later ones waiting less
 * (the guide's 10 s, 9 s, ... scaled to milliseconds) so they finish first. With the connection in the
 * Reactor Context every request keeps its own session throughout; with the classic thread-local binder the
 * requests trample on each other's connection, which is the failure the guide demonstrates.
 *
 * <p>The interleaving is deterministic: every request reads its session, then waits for a shared signal
 * that fires when all ten have started, and only then for its own delay.
 */
abstract class ConcurrentRequestsContract extends DatabaseContract {

	private static final int REQUESTS = 10;
	private static final Duration DELAY_STEP = Duration.ofMillis(20);
	private static final Duration HANG_LIMIT = Duration.ofSeconds(60);
	private static final String LOOP = "request-loop";

	private Scheduler loop;
	private String loopThread;

	@Override
	int poolSize() {
		// One connection per request in flight: all ten hold theirs while they wait.
		return REQUESTS;
	}

	@BeforeEach
	void startLoop() {
		loop = Schedulers.newSingle(LOOP);
		loopThread = Mono.fromCallable(() -> Thread.currentThread().getName()).subscribeOn(loop).block();
	}

	@AfterEach
	void stopLoop() {
		loop.dispose();
	}

	/** What one request saw. {@code error} is set when the request failed; ids are server session ids. */
	record Outcome(int request, @Nullable Integer sessionBefore, @Nullable Integer sessionAfter,
			@Nullable String value, boolean ownConnectionBefore, boolean ownConnectionAfter,
			Set<String> threads, @Nullable Throwable error) {

		boolean keptItsOwnConnection() {
			return error == null && ownConnectionBefore && ownConnectionAfter;
		}
	}

	/** Delays decrease with the request number, as in the guide, so later requests overtake earlier ones. */
	private static Duration delayOf(int request) {
		return DELAY_STEP.multipliedBy(REQUESTS - request);
	}

	private static void recordThread(Set<String> threads) {
		threads.add(Thread.currentThread().getName());
	}

	private Mono<Integer> sessionIdOn(Connection c) {
		return query(c, database().sessionIdSql(), Number.class).single().map(Number::intValue);
	}

	/** The request's own work at the end: insert its row and read it back. */
	private Mono<String> insertAndRead(Connection c, int request) {
		return update(c, "INSERT INTO " + table + " VALUES (" + request + ", 'request-" + request + "')")
				.then(query(c, "SELECT v FROM " + table + " WHERE id = " + request, String.class).single());
	}

	/** Runs the ten requests, all subscribed on the one loop thread, and collects their outcomes. */
	private List<Outcome> runRequests(Function<Integer, Mono<Outcome>> request) {
		return Flux.range(0, REQUESTS)
				.flatMap(request, REQUESTS)
				.subscribeOn(loop)
				.collectSortedList((a, b) -> Integer.compare(a.request(), b.request()))
				.block(HANG_LIMIT);
	}

	/** A latch that opens when all requests have read their session id. */
	private static final class AllStarted {

		private final AtomicInteger started = new AtomicInteger();
		private final Sinks.Empty<Void> open = Sinks.empty();

		Mono<Void> arriveAndWait() {
			if (started.incrementAndGet() == REQUESTS) {
				open.tryEmitEmpty();
			}
			return open.asMono();
		}
	}

	/**
	 * Context-bound connections: ten interleaved requests on one thread each keep one connection, see the
	 * same session before and after their wait, and the ten sessions are distinct; all connections are
	 * released.
	 */
	@Test
	void contextBoundConnectionsSurviveInterleavedRequestsOnOneThread() {
		int acquiredBefore = counting.acquired();
		AllStarted allStarted = new AllStarted();

		List<Outcome> outcomes = runRequests(i -> {
			Set<String> threads = ConcurrentHashMap.newKeySet();
			return scope.inConnection(scope.withConnection(this::sessionIdOn)
					.publishOn(loop)
					.doOnNext(id -> recordThread(threads))
					.flatMap(before -> allStarted.arriveAndWait()
							.then(Mono.delay(delayOf(i), loop))
							.then(scope.withConnection(this::sessionIdOn))
							.publishOn(loop)
							.doOnNext(id -> recordThread(threads))
							.flatMap(after -> scope.withConnection(c -> insertAndRead(c, i))
									.publishOn(loop)
									.doOnNext(v -> recordThread(threads))
									.map(v -> new Outcome(i, before, after, v, true, true, threads, null)))));
		});

		assertThat(outcomes).hasSize(REQUESTS);
		assertThat(outcomes).allSatisfy(o -> {
			assertThat(o.error()).isNull();
			assertThat(o.sessionAfter()).as("session of request %d after its wait", o.request())
					.isEqualTo(o.sessionBefore());
			assertThat(o.value()).isEqualTo("request-" + o.request());
			assertThat(o.threads()).as("threads that ran request %d", o.request()).containsOnly(loopThread);
		});
		assertThat(outcomes.stream().map(Outcome::sessionBefore).distinct()).as("distinct sessions").hasSize(REQUESTS);
		Leaks.assertAllReleased(counting, pool);
		assertThat(counting.acquired() - acquiredBefore).as("connections acquired").isEqualTo(REQUESTS);
		assertThat(counting.released()).isEqualTo(counting.acquired());
	}

	/**
	 * The classic thread-local binder under the same load fails: requests that share the thread find
	 * another request's connection, or none, when they come back from their wait.
	 */
	@Test
	void threadLocalBoundConnectionsAreTrampledByInterleavedRequestsOnOneThread() {
		ThreadLocalBinder binder = new ThreadLocalBinder(counting, loop);
		AllStarted allStarted = new AllStarted();

		List<Outcome> outcomes = runRequests(i -> {
			Set<String> threads = ConcurrentHashMap.newKeySet();
			return binder.inConnection(own -> {
				recordThread(threads);
				Connection seenBefore = binder.current();
				return sessionIdOn(seenBefore)
						.publishOn(loop)
						.flatMap(before -> allStarted.arriveAndWait()
								.then(Mono.delay(delayOf(i), loop))
								.then(Mono.fromCallable(() -> {
									recordThread(threads);
									return binder.current();
								}))
								.flatMap(seenAfter -> sessionIdOn(seenAfter)
										.zipWith(insertAndRead(seenAfter, i))
										.publishOn(loop)
										.map(r -> new Outcome(i, before, r.getT1(), r.getT2(), seenBefore == own,
												seenAfter == own, threads, null))));
			}).onErrorResume(e -> Mono.just(new Outcome(i, null, null, null, true, false, threads, e)));
		});

		assertThat(outcomes).hasSize(REQUESTS);
		assertThat(outcomes).as("every request sees its own connection right after binding it")
				.allSatisfy(o -> assertThat(o.ownConnectionBefore()).isTrue());
		assertThat(outcomes).as("requests that came back from their wait to another request's connection, or none")
				.filteredOn(o -> !o.keptItsOwnConnection())
				// Only the request that bound its connection last can find it again; the first to finish
				// unbinds the thread, so the others find nothing.
				.hasSizeGreaterThanOrEqualTo(REQUESTS - 1);
		assertThat(outcomes).flatExtracting(o -> List.copyOf(o.threads())).containsOnly(loopThread);
	}

	/**
	 * The thread-local pattern: bind the request's connection to the current thread when the request starts,
	 * look it up there on every use, unbind it when the request ends. Releasing is done charitably, by the
	 * request's own reference rather than through the thread-local, so the test shows the lookups going wrong
	 * without also leaking connections.
	 */
	private static final class ThreadLocalBinder {

		private final ThreadLocal<Connection> current = new ThreadLocal<>();
		private final ConnectionFactory factory;
		private final Scheduler loop;

		ThreadLocalBinder(ConnectionFactory factory, Scheduler loop) {
			this.factory = factory;
			this.loop = loop;
		}

		<T> Mono<T> inConnection(Function<Connection, Mono<T>> request) {
			return Mono.usingWhen(Mono.from(factory.create()).publishOn(loop),
					c -> {
						current.set(c);
						return request.apply(c).publishOn(loop);
					},
					c -> {
						current.remove();
						return c.close();
					},
					(c, e) -> {
						current.remove();
						return c.close();
					},
					c -> {
						current.remove();
						return c.close();
					});
		}

		Connection current() {
			Connection c = current.get();
			if (c == null) {
				throw new IllegalStateException("No connection bound to thread " + Thread.currentThread().getName());
			}
			return c;
		}
	}
}
