package io.tether.examples;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.tether.context.ConnectionScope;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The "slow requests" experiment from the FastAPI + Peewee documentation, in Java: ten overlapping
 * requests interleaved on one event-loop thread, each asking the database which session it is on
 * before and after a slow, non-blocking wait. With Tether each request keeps its own connection; with
 * the classic thread-local binder the requests trample each other's connection.
 *
 * <p>Runs on an in-memory H2 database, or on {@code DATABASE_URL} (an R2DBC URL) when set.
 */
public final class SlowRequestsDemo {

	private static final int REQUESTS = 10;

	private SlowRequestsDemo() {
	}

	/** What one request saw: the session before and after its wait, or the error it got. */
	record Outcome(int request, @Nullable Integer before, @Nullable Integer after, @Nullable String error) {

		boolean ok() {
			return error == null && before != null && before.equals(after);
		}
	}

	public static void main(String[] args) {
		String url = Objects.requireNonNullElse(System.getenv("DATABASE_URL"),
				"r2dbc:h2:mem:///tether_demo?options=DB_CLOSE_DELAY=-1");
		ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration.builder(ConnectionFactories.get(url))
				.initialSize(0).maxSize(REQUESTS + 2).maxAcquireTime(Duration.ofSeconds(10)).build());
		Scheduler eventLoop = Schedulers.newSingle("event-loop");
		String sessionSql = pool.getMetadata().getName().toLowerCase().contains("postgres")
				? "SELECT pg_backend_pid()" : "SELECT SESSION_ID()";
		try {
			System.out.printf("Tether demo: %d overlapping slow requests on ONE thread (%s)%n%n", REQUESTS,
					pool.getMetadata().getName());

			ConnectionScope db = ConnectionScope.of(pool);
			List<Outcome> tether = run(eventLoop, (i, wait) -> db.inConnection(
					db.withConnection(c -> session(c, sessionSql))
							.flatMap(before -> wait.then(db.withConnection(c -> session(c, sessionSql)))
									.map(after -> new Outcome(i, before, after, null)))));
			report("With Tether (connection bound in the Reactor Context):", tether);

			ThreadLocal<Connection> current = new ThreadLocal<>();
			List<Outcome> threadLocal = run(eventLoop, (i, wait) -> Mono.usingWhen(pool.create(),
					c -> Mono.fromRunnable(() -> current.set(c))
							.then(Mono.defer(() -> session(current.get(), sessionSql)))
							.publishOn(eventLoop)
							.flatMap(before -> wait.then(Mono.defer(() -> {
								Connection now = current.get();
								return now == null ? Mono.error(new IllegalStateException("no connection bound"))
										: session(now, sessionSql);
							})).map(after -> new Outcome(i, before, after, null))),
					c -> Mono.fromRunnable(current::remove).then(Mono.from(c.close()))));
			report("With a ThreadLocal binder (the classic pattern):", threadLocal);

			int pooled = pool.getMetrics().map(m -> m.acquiredSize()).orElse(-1);
			System.out.printf("Pool after both runs: %d connections still acquired%n", pooled);
		}
		finally {
			pool.disposeLater().block();
			eventLoop.dispose();
		}
	}

	interface Request {
		Mono<Outcome> handle(int request, Mono<Void> slowWait);
	}

	/** Starts all requests on the event loop; each waits until all have started, then a decreasing delay. */
	private static List<Outcome> run(Scheduler eventLoop, Request request) {
		AtomicInteger started = new AtomicInteger();
		Sinks.Empty<Void> allStarted = Sinks.empty();
		Function<Integer, Mono<Outcome>> one = i -> {
			Mono<Void> wait = Mono.defer(() -> {
				if (started.incrementAndGet() == REQUESTS) {
					allStarted.tryEmitEmpty();
				}
				return allStarted.asMono();
			}).then(Mono.delay(Duration.ofMillis(20L * (REQUESTS - i)), eventLoop)).then().publishOn(eventLoop);
			return request.handle(i, wait)
					.onErrorResume(e -> Mono.just(new Outcome(i, null, null, e.getMessage())))
					.subscribeOn(eventLoop);
		};
		return Flux.range(1, REQUESTS).flatMap(one).collectSortedList((a, b) -> a.request() - b.request())
				.block(Duration.ofSeconds(60));
	}

	private static Mono<Integer> session(Connection c, String sql) {
		return Flux.from(c.createStatement(sql).execute())
				.flatMap(r -> r.map((row, md) -> ((Number) Objects.requireNonNull(row.get(0))).intValue()))
				.single();
	}

	private static void report(String title, List<Outcome> outcomes) {
		System.out.println(title);
		for (Outcome o : outcomes) {
			String line = o.error() != null ? "failed: " + o.error()
					: String.format("session %3d before the wait, session %3d after %s", o.before(), o.after(),
							o.ok() ? "-> its own connection" : "-> ANOTHER REQUEST'S CONNECTION");
			System.out.printf("  request %2d: %s%n", o.request(), line);
		}
		long ok = outcomes.stream().filter(Outcome::ok).count();
		long distinct = outcomes.stream().filter(Outcome::ok).map(Outcome::before).distinct().count();
		System.out.printf("  => %d/%d requests kept their own connection (%d distinct connections)%n%n", ok,
				outcomes.size(), distinct);
	}
}
