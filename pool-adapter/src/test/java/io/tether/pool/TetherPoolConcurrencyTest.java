package io.tether.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.tether.context.testing.Database;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Many concurrent scopes on real schedulers against a small pool, with timeouts, cancels, broken results
 * and a close right after: every operation ends, nothing leaks, and reactor-pool never sees a permit
 * returned twice.
 */
class TetherPoolConcurrencyTest {

	@RepeatedTest(5)
	void concurrentUseThenCloseLeavesNothingBehind() {
		FaultyConnectionFactory factory = new FaultyConnectionFactory(Database.H2.connectionFactory());
		TetherPool pool = TetherPool.create(factory, PoolSettings.builder().maxSize(4).maxIdle(3).maxUses(7)
				.acquireTimeout(Duration.ofMillis(200)).validation(ValidationMode.ON_ACQUIRE_LOCAL).build());
		AtomicInteger ok = new AtomicInteger();
		AtomicInteger timedOut = new AtomicInteger();
		AtomicInteger other = new AtomicInteger();
		PrintStream original = System.err;
		ByteArrayOutputStream err = new ByteArrayOutputStream();
		System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
		try {
			Flux.range(0, 400)
					.flatMap(i -> Mono.usingWhen(pool.create(),
							c -> work(c, i),
							Connection::close)
							.subscribeOn(Schedulers.parallel())
							.timeout(Duration.ofMillis(i % 13 == 0 ? 1 : 5_000))
							.doOnSuccess(v -> ok.incrementAndGet())
							.onErrorResume(e -> {
								if (e instanceof PoolAcquireTimeoutException) {
									timedOut.incrementAndGet();
								}
								else {
									other.incrementAndGet();
								}
								return Mono.empty();
							}), 40)
					.then(pool.close(Duration.ofSeconds(5)))
					.block(Duration.ofSeconds(30));
		}
		finally {
			System.setErr(original);
		}
		String captured = err.toString(StandardCharsets.UTF_8);
		try {
			assertThat(ok.get() + timedOut.get() + other.get()).isEqualTo(400);
			assertThat(ok.get()).isPositive();
			assertThat(captured).doesNotContain("Too many permits", "still in use after the grace period");
			assertThat(unexpectedErrors(captured)).as("ERROR lines other than a validation outliving its acquisition").isEmpty();
			PoolStats stats = pool.stats();
			assertThat(stats.acquired()).as("%s", stats).isZero();
			assertThat(stats.allocated()).as("%s", stats).isZero();
			long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
			while (factory.open() != 0 && System.nanoTime() < deadline) {
				Thread.onSpinWait();
			}
			assertThat(factory.open()).as("physical connections left open").isZero();
		}
		catch (AssertionError e) {
			original.print(captured);
			throw e;
		}
	}

	/**
	 * The ERROR lines of {@code captured}, except the one this test provokes on purpose: an acquire that times
	 * out after 1 ms while H2 runs its validation query (r2dbc-h2's {@code validate(LOCAL)} is a query) gives
	 * the connection up and closes it; the query, still running on another thread, then fails with "The
	 * database has been closed", which Reactor drops (logged by {@code Operators}) as its subscriber was cancelled.
	 */
	private static List<String> unexpectedErrors(String captured) {
		List<String> lines = captured.lines().toList();
		List<String> unexpected = new ArrayList<>();
		for (int i = 0; i < lines.size(); i++) {
			String line = lines.get(i);
			if (!line.contains(" ERROR ")) {
				continue;
			}
			boolean abandonedValidation = line.contains("reactor.core.publisher.Operators - Operator called default onErrorDropped")
					&& i + 1 < lines.size() && lines.get(i + 1).contains("The database has been closed");
			if (!abandonedValidation) {
				unexpected.add(line);
			}
		}
		return unexpected;
	}

	private static Mono<Long> work(Connection c, int i) {
		if (i % 5 == 0) {
			// stops reading mid-result: the connection must be destroyed, not reused
			return Flux.from(c.createStatement("SELECT X FROM SYSTEM_RANGE(1, 500)").execute())
					.flatMap(r -> r.map((row, md) -> row.get(0, Long.class))).take(2).count();
		}
		return Flux.from(c.createStatement("SELECT X FROM SYSTEM_RANGE(1, 20)").execute())
				.flatMap(r -> r.map((row, md) -> row.get(0, Long.class))).count();
	}
}
