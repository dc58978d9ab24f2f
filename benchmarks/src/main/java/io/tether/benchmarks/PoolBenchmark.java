package io.tether.benchmarks;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.pool.PoolSettings;
import io.tether.pool.TetherPool;
import io.tether.pool.ValidationMode;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Mono;

/**
 * What does a checkout from {@link TetherPool} cost, compared with r2dbc-pool's {@link ConnectionPool}?
 *
 * <p>One operation is: acquire a connection, run {@code SELECT 1} on H2 in-memory and consume its result
 * fully, release the connection, all in one {@code Mono.usingWhen(pool.create(), ..., Connection::close)}
 * that is the same for every pool; only the pool differs. Each pool holds 4 connections, opened before
 * anything is measured:
 * <ul>
 *   <li>{@link #r2dbcPool}: r2dbc-pool 1.0.2, {@code initialSize} = {@code maxSize} = 4, no validation query.
 *       r2dbc-pool has no way to switch validation off: without a query it calls
 *       {@code Connection.validate(LOCAL)} on every checkout, the cheapest it offers (r2dbc-h2 1.1.0 ignores the
 *       depth and runs {@code SELECT CURRENT_TIMESTAMP}, so on H2 that is a second query per checkout);</li>
 *   <li>{@link #tetherPool_noValidation}: {@code TetherPool} with {@code maxSize} = {@code minIdle} = 4 and
 *       {@link ValidationMode#NEVER};</li>
 *   <li>{@link #tetherPool_defaultValidation}: the same with the default
 *       {@link ValidationMode#ON_ACQUIRE_IF_IDLE}. Connections here are never idle for the 5 s threshold, so
 *       every checkout does what (a) does, {@code validate(LOCAL)}.</li>
 * </ul>
 * The {@code *_contended} variants run the same operation from 8 threads at once ({@link Threads}) on the
 * same 4 connections, so that about half of the acquisitions wait for a release and are handed a connection
 * by another thread: the pools' concurrent paths and hand-off, not just the uncontended fast path. Their
 * score is the time per operation seen by one thread.
 *
 * <p>Every operation returns the selected value, which {@link #setUp()} checks is 1 for each pool before
 * anything is measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 8, time = 2, timeUnit = TimeUnit.SECONDS)
public class PoolBenchmark {

	static final String URL = "r2dbc:h2:mem:///bench_pool?options=DB_CLOSE_DELAY=-1";

	static final int SIZE = 4;

	private @Nullable ConnectionPool r2dbcPool;
	private @Nullable TetherPool tetherNever;
	private @Nullable TetherPool tetherDefault;

	@Setup(Level.Trial)
	public void setUp() {
		ConnectionFactory h2 = ConnectionFactories.get(URL);
		ConnectionPool r = new ConnectionPool(ConnectionPoolConfiguration.builder(h2)
				.name("bench-r2dbc-pool")
				.initialSize(SIZE)
				.maxSize(SIZE)
				.maxAcquireTime(Duration.ofSeconds(10))
				.build());
		r.warmup().block();
		r2dbcPool = r;
		tetherNever = warmed(TetherPool.create(h2, settings("bench-tether-never").validation(ValidationMode.NEVER).build()));
		tetherDefault = warmed(TetherPool.create(h2, settings("bench-tether-default").build()));
		check("r2dbcPool", r2dbcPool());
		check("tetherPool_noValidation", tetherPool_noValidation());
		check("tetherPool_defaultValidation", tetherPool_defaultValidation());
	}

	/** Equivalent settings to the r2dbc-pool above; validation left at its default unless the caller sets it. */
	private static PoolSettings.Builder settings(String name) {
		return PoolSettings.builder()
				.name(name)
				.maxSize(SIZE)
				.minIdle(SIZE)
				.acquireTimeout(Duration.ofSeconds(10));
	}

	private static TetherPool warmed(TetherPool pool) {
		pool.warmup().block();
		int idle = pool.stats().idle();
		if (idle != SIZE) {
			throw new IllegalStateException("warmup left " + idle + " idle connections in " + pool + ", expected " + SIZE);
		}
		return pool;
	}

	private static void check(String variant, @Nullable Integer result) {
		if (result == null || result != 1) {
			throw new IllegalStateException(variant + " returned " + result + ", expected 1");
		}
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		ConnectionPool r = r2dbcPool;
		TetherPool never = tetherNever;
		TetherPool dflt = tetherDefault;
		r2dbcPool = null;
		tetherNever = null;
		tetherDefault = null;
		if (r != null) {
			r.disposeLater().block(Duration.ofSeconds(10));
		}
		if (never != null) {
			never.close(Duration.ofSeconds(10)).block(Duration.ofSeconds(20));
		}
		if (dflt != null) {
			dflt.close(Duration.ofSeconds(10)).block(Duration.ofSeconds(20));
		}
	}

	/** (a) r2dbc-pool. */
	@Benchmark
	public @Nullable Integer r2dbcPool() {
		return select1(require(r2dbcPool));
	}

	/** (b) TetherPool, validation {@code NEVER}. */
	@Benchmark
	public @Nullable Integer tetherPool_noValidation() {
		return select1(require(tetherNever));
	}

	/** (c) TetherPool, default validation {@code ON_ACQUIRE_IF_IDLE}. */
	@Benchmark
	public @Nullable Integer tetherPool_defaultValidation() {
		return select1(require(tetherDefault));
	}

	/** (a) from 8 threads on 4 connections. */
	@Benchmark
	@Threads(8)
	public @Nullable Integer r2dbcPool_contended() {
		return r2dbcPool();
	}

	/** (b) from 8 threads on 4 connections. */
	@Benchmark
	@Threads(8)
	public @Nullable Integer tetherPool_noValidation_contended() {
		return tetherPool_noValidation();
	}

	/** (c) from 8 threads on 4 connections. */
	@Benchmark
	@Threads(8)
	public @Nullable Integer tetherPool_defaultValidation_contended() {
		return tetherPool_defaultValidation();
	}

	/** One checkout: acquire, {@code SELECT 1} consumed fully, release; the same code for every pool. */
	static @Nullable Integer select1(ConnectionFactory pool) {
		return Mono.usingWhen(pool.create(), ScopeOverheadBenchmark::select1, Connection::close).block();
	}

	private static <T> T require(@Nullable T pool) {
		if (pool == null) {
			throw new IllegalStateException("setUp() has not run");
		}
		return pool;
	}
}
