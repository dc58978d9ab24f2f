package io.tether.benchmarks;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.ConnectionScope;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What does binding the connection to the Reactor Context cost, compared with passing it by hand?
 *
 * <p>One operation is a pipeline of {@code n} {@code SELECT 1} statements on H2 in-memory, each result
 * consumed fully, the statements chained one after the other ({@code concatMap}) the same way in every
 * variant, all through the same r2dbc-pool:
 * <ul>
 *   <li>{@link #raw_usingWhenPerStatement}: each statement in its own {@code Mono.usingWhen(pool.create(), ...,
 *       Connection::close)}, i.e. one pool acquire/release per statement, as naive code without a shared
 *       connection does;</li>
 *   <li>{@link #raw_usingWhenAroundAll}: one {@code usingWhen} around the whole pipeline, the connection
 *       passed to every statement by hand: the hand-written lower bound Tether competes with;</li>
 *   <li>{@link #tether_scope}: {@code scope.inConnection(...)} around the pipeline, each statement written as
 *       {@code scope.withConnection(c -> ...)}, which finds the connection in the Context; statements run
 *       through Tether's statement gate.</li>
 * </ul>
 * Every operation returns the sum of the selected values, which {@link #setUp()} checks equals {@code n}
 * for each variant before anything is measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 8, time = 2, timeUnit = TimeUnit.SECONDS)
public class ScopeOverheadBenchmark {

	static final String URL = "r2dbc:h2:mem:///bench?options=DB_CLOSE_DELAY=-1";

	/** Statements per operation. */
	@Param({"1", "5"})
	public int n;

	private @Nullable ConnectionPool pool;
	private @Nullable ConnectionScope scope;

	@Setup(Level.Trial)
	public void setUp() {
		ConnectionFactory h2 = ConnectionFactories.get(URL);
		ConnectionPool p = new ConnectionPool(ConnectionPoolConfiguration.builder(h2)
				.name("bench")
				.initialSize(4)
				.maxSize(4)
				.maxAcquireTime(Duration.ofSeconds(10))
				.build());
		p.warmup().block();
		pool = p;
		scope = ConnectionScope.of(p);
		check("raw_usingWhenPerStatement", raw_usingWhenPerStatement());
		check("raw_usingWhenAroundAll", raw_usingWhenAroundAll());
		check("tether_scope", tether_scope());
	}

	private void check(String variant, @Nullable Integer result) {
		if (result == null || result != n) {
			throw new IllegalStateException(variant + " returned " + result + " for n=" + n + ", expected " + n);
		}
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		ConnectionPool p = pool;
		pool = null;
		scope = null;
		if (p != null) {
			p.disposeLater().block(Duration.ofSeconds(10));
		}
	}

	/** (a) A pool acquire/release around every statement. */
	@Benchmark
	public @Nullable Integer raw_usingWhenPerStatement() {
		ConnectionPool p = pool();
		return Flux.range(0, n)
				.concatMap(i -> Mono.usingWhen(p.create(), ScopeOverheadBenchmark::select1, Connection::close))
				.reduce(0, Integer::sum)
				.block();
	}

	/** (b) One hand-written acquire/release around the whole pipeline; the connection passed by hand. */
	@Benchmark
	public @Nullable Integer raw_usingWhenAroundAll() {
		return Mono.usingWhen(pool().create(),
						c -> Flux.range(0, n)
								.concatMap(i -> select1(c))
								.reduce(0, Integer::sum),
						Connection::close)
				.block();
	}

	/** (c) Tether: one scope around the pipeline; each statement finds the connection in the Context. */
	@Benchmark
	public @Nullable Integer tether_scope() {
		ConnectionScope s = scope();
		return s.inConnection(Flux.range(0, n)
						.concatMap(i -> s.withConnection(ScopeOverheadBenchmark::select1))
						.reduce(0, Integer::sum))
				.block();
	}

	/** {@code SELECT 1}, every row and every result consumed; the same code in all variants. */
	static Mono<Integer> select1(Connection c) {
		return Flux.from(c.createStatement("SELECT 1").execute())
				.flatMap(r -> r.map((row, md) -> row.get(0, Integer.class)))
				.reduce(0, Integer::sum);
	}

	private ConnectionPool pool() {
		ConnectionPool p = pool;
		if (p == null) {
			throw new IllegalStateException("setUp() has not run");
		}
		return p;
	}

	private ConnectionScope scope() {
		ConnectionScope s = scope;
		if (s == null) {
			throw new IllegalStateException("setUp() has not run");
		}
		return s;
	}
}
