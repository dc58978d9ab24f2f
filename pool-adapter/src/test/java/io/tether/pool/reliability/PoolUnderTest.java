package io.tether.pool.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import io.tether.pool.PoolAcquireTimeoutException;
import io.tether.pool.PoolListener;
import io.tether.pool.PoolSettings;
import io.tether.pool.PoolStats;
import io.tether.pool.TetherPool;
import io.tether.pool.testing.Await;
import io.tether.pool.testing.PgSessions;
import io.tether.pool.testing.TcpProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * One {@link TetherPool} on the real server, with its own {@code application_name} so the test can watch
 * exactly its sessions in {@code pg_stat_activity}, a listener that records what the pool reports, and
 * the two checks every reliability test ends with: nothing is left acquired, no session of this pool sits
 * idle in a transaction, and closing the pool leaves no session behind on the server.
 */
final class PoolUnderTest implements AutoCloseable {

	/** Hang guard for a whole load phase or a single step; never a timing assertion. */
	static final Duration GUARD = Duration.ofSeconds(90);

	final String app;
	final PgSessions pg;
	final TetherPool pool;
	final List<String> evictions = new CopyOnWriteArrayList<>();
	final List<Throwable> validationFailures = new CopyOnWriteArrayList<>();
	final List<Duration> leaks = new CopyOnWriteArrayList<>();
	final List<@Nullable Throwable> leakOrigins = new CopyOnWriteArrayList<>();
	final List<Duration> created = new CopyOnWriteArrayList<>();
	private final Disposable listener;

	private PoolUnderTest(PgSessions pg, String app, ConnectionFactory target, UnaryOperator<PoolSettings.Builder> settings) {
		this.pg = pg;
		this.app = app;
		this.pool = TetherPool.create(target, settings.apply(PoolSettings.builder().name(app)).build());
		this.listener = pool.addListener(new PoolListener() {
			@Override
			public void evicted(String reason) {
				evictions.add(reason);
			}

			@Override
			public void validationFailed(Throwable error) {
				validationFailures.add(error);
			}

			@Override
			public void leakSuspected(Duration held, @Nullable Throwable acquiredAt) {
				leaks.add(held);
				leakOrigins.add(acquiredAt);
			}

			@Override
			public void created(Duration took) {
				created.add(took);
			}
		});
	}

	/** A pool connected straight to the test server. */
	static PoolUnderTest direct(PgSessions pg, String label, UnaryOperator<PoolSettings.Builder> settings) {
		String app = PgSessions.newApplicationName(label);
		return new PoolUnderTest(pg, app, PgSessions.factory(app), settings);
	}

	/** A pool that reaches the test server through {@code proxy}. */
	static PoolUnderTest viaProxy(PgSessions pg, String label, TcpProxy proxy, UnaryOperator<PoolSettings.Builder> settings) {
		String app = PgSessions.newApplicationName(label);
		return new PoolUnderTest(pg, app, PgSessions.factory(app, proxy), settings);
	}

	// ------------------------------------------------------------------ operations

	/** Borrow, read the backend PID, return. */
	Mono<Integer> pid() {
		return Mono.usingWhen(pool.create(), PoolUnderTest::pidOf, Connection::close);
	}

	/** Borrow, hold the connection busy on the server for {@code sleep}, read the PID, return. */
	Mono<Integer> sleepThenPid(Duration sleep) {
		return Mono.usingWhen(pool.create(), c -> sleepThenPid(c, sleep), Connection::close);
	}

	/** Same inside an explicit transaction that is committed. */
	Mono<Integer> sleepThenPidInTransaction(Duration sleep) {
		return Mono.usingWhen(pool.create(),
				c -> Mono.from(c.beginTransaction())
						.then(sleepThenPid(c, sleep))
						.flatMap(pid -> Mono.from(c.commitTransaction()).thenReturn(pid)),
				Connection::close);
	}

	static Mono<Integer> pidOf(Connection c) {
		return one(c, "SELECT pg_backend_pid()", Integer.class);
	}

	static Mono<Integer> sleepThenPid(Connection c, Duration sleep) {
		return one(c, "SELECT pg_backend_pid() FROM (SELECT pg_sleep(" + sleep.toMillis() / 1000.0 + ")) s", Integer.class);
	}

	static <T> Mono<T> one(Connection c, String sql, Class<T> type) {
		return Flux.from(c.createStatement(sql).execute())
				.concatMap(r -> r.map(row -> Objects.requireNonNull(row.get(0, type), sql + " returned NULL")))
				.single();
	}

	static Mono<Void> run(Connection c, String sql) {
		return Flux.from(c.createStatement(sql).execute()).concatMap(r -> r.getRowsUpdated()).then();
	}

	// ------------------------------------------------------------------ load

	/** What one operation of a load phase ended with. */
	record Outcome(@Nullable Integer pid, @Nullable Throwable error, boolean hung) {

		boolean ok() {
			return error == null && !hung;
		}

		@Override
		public String toString() {
			return hung ? "HUNG" : error == null ? "pid " + pid : error.getClass().getName() + ": " + error.getMessage();
		}
	}

	/**
	 * Runs {@code n} operations, at most {@code concurrency} at a time, and returns how each ended. An
	 * operation that does not end within {@code perOperationGuard} is cancelled and reported as hung; the
	 * whole phase is guarded by {@link #GUARD}.
	 */
	static List<Outcome> load(int n, int concurrency, Duration perOperationGuard, IntFunction<Mono<Integer>> operation) {
		Mono<List<Outcome>> phase = Flux.range(0, n)
				.flatMap(i -> Mono.defer(() -> operation.apply(i))
						.map(pid -> new Outcome(pid, null, false))
						.timeout(perOperationGuard)
						.onErrorResume(e -> Mono.just(e instanceof TimeoutException
								? new Outcome(null, null, true)
								: new Outcome(null, e, false))), concurrency)
				.collectList();
		return within(phase, GUARD);
	}

	/** Subscribes and waits for the single value, failing (not hanging) if nothing arrives within {@code guard}. */
	static <T> T within(Mono<T> mono, Duration guard) {
		AtomicReference<T> value = new AtomicReference<>();
		StepVerifier.create(mono).consumeNextWith(value::set).expectComplete().verify(guard);
		return value.get();
	}

	/** Subscribes and waits for completion without a value. */
	static void complete(Mono<?> mono, Duration guard) {
		StepVerifier.create(mono).expectComplete().verify(guard);
	}

	static List<Integer> pids(Collection<Outcome> outcomes) {
		return outcomes.stream().filter(Outcome::ok).map(o -> Objects.requireNonNull(o.pid())).toList();
	}

	static List<Throwable> errors(Collection<Outcome> outcomes) {
		List<Throwable> errors = new ArrayList<>();
		for (Outcome o : outcomes) {
			if (o.error() != null) {
				errors.add(o.error());
			}
		}
		return errors;
	}

	static void assertNoneHung(Collection<Outcome> outcomes) {
		assertThat(outcomes).as("operations that hung (cancelled by the hang guard)").noneMatch(Outcome::hung);
	}

	/**
	 * A connection-level failure as a pool user sees it when the server or the network goes away: an
	 * R2DBC exception that is (or is caused by) a non-transient resource error, a transient resource error,
	 * an acquire timeout, or that carries SQLState class 08 or 57P01..57P03.
	 */
	static boolean isConnectionError(Throwable error) {
		if (!(error instanceof R2dbcException)) {
			return false;
		}
		for (Throwable t = error; t != null; t = t.getCause()) {
			if (t instanceof R2dbcNonTransientResourceException || t instanceof R2dbcTransientResourceException
					|| t instanceof PoolAcquireTimeoutException) {
				return true;
			}
			if (t instanceof R2dbcException r && r.getSqlState() != null) {
				String state = r.getSqlState();
				if (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03")) {
					return true;
				}
			}
		}
		return false;
	}

	static String describe(Collection<?> items) {
		return items.stream().map(String::valueOf).collect(Collectors.joining("\n  ", "\n  ", ""));
	}

	static Set<Integer> intersection(Collection<Integer> a, Collection<Integer> b) {
		Set<Integer> s = new HashSet<>(a);
		s.retainAll(b);
		return s;
	}

	// ------------------------------------------------------------------ checks

	PoolStats stats() {
		return pool.stats();
	}

	List<Integer> serverPids() {
		return pg.pids(app);
	}

	/** Every borrowed connection came back, and no session of this pool is left idle in a transaction. */
	void assertNothingLeaked() {
		Await.until(() -> pool.stats().acquired() == 0, Await.DEFAULT, () -> "every connection returned: " + pool.stats());
		assertThat(pool.stats().acquired()).as("acquired after the test: %s", pool.stats()).isZero();
		assertThat(pool.stats().pending()).as("pending after the test: %s", pool.stats()).isZero();
		assertThat(pg.idleInTransaction(app)).as("sessions of %s idle in transaction: %s", app, pg.states(app)).isZero();
	}

	/** Closes the pool (grace 10 s) and checks that the server has no session of it left. */
	@Override
	public void close() {
		listener.dispose();
		if (!pool.isClosed()) {
			complete(pool.close(Duration.ofSeconds(10)), GUARD);
		}
		assertThat(pool.isClosed()).isTrue();
		Await.until(() -> pg.pids(app).isEmpty(), Await.DEFAULT,
				() -> "no session of " + app + " left after close: " + pg.states(app));
	}
}
