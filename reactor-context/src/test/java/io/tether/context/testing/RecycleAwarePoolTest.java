package io.tether.context.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;

/**
 * The reactor-pool race behind "Too many permits returned" when a suite closes an r2dbc-pool right after
 * a release, forced step by step: thread A releases a connection and stays inside the pool's recycling
 * (its close subscriber's {@code onComplete} waits); meanwhile the test thread takes the same connection,
 * releases it and disposes the pool; then A goes on. See {@link RecycleAwarePool}.
 */
class RecycleAwarePoolTest {

	private final List<Throwable> dropped = new CopyOnWriteArrayList<>();

	@AfterEach
	void resetHooks() {
		Hooks.resetOnErrorDropped();
	}

	@Test
	void plainR2dbcPoolDestroysTheConnectionTwiceWhenDisposedWhileARecycleIsStillRunning() throws Exception {
		CountingConnectionFactory physical = new CountingConnectionFactory(Database.H2.connectionFactory());
		ByteArrayOutputStream stderr = new ByteArrayOutputStream();
		PrintStream original = System.err;
		Outcome outcome;
		System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
		try {
			outcome = race(physical, b -> new ConnectionPool(b.build()));
		}
		finally {
			System.setErr(original);
		}

		// If this starts failing, reactor-pool has fixed the race: RecycleAwarePool can go.
		assertThat(physical.acquired()).as("physical connections opened").isEqualTo(1);
		// The second destroy fails on the permit count before it reaches the destroy handler.
		assertThat(dropped).singleElement().asString().contains("Too many permits returned: returned=1, would bring to 3/2");
		assertThat(outcome.disposeError).isNull();
		assertThat(stderr.toString(StandardCharsets.UTF_8)).as("what reactor-pool prints").contains("unexpected decrement below 0");
	}

	@Test
	void recycleAwarePoolWaitsForTheRecycleAndDestroysTheConnectionOnce() throws Exception {
		CountingConnectionFactory physical = new CountingConnectionFactory(Database.H2.connectionFactory());
		Outcome outcome = race(physical, RecycleAwarePool::create);

		assertThat(physical.acquired()).as("physical connections opened").isEqualTo(1);
		assertThat(physical.released()).as("physical connections closed").isEqualTo(1);
		assertThat(physical.doubleReleases()).as("physical connection closed a second time").isZero();
		assertThat(dropped).isEmpty();
		assertThat(outcome.disposeError).isNull();
	}

	private record Outcome(Throwable disposeError) {
	}

	private Outcome race(CountingConnectionFactory physical, Function<ConnectionPoolConfiguration.Builder, ConnectionPool> build)
			throws Exception {
		Hooks.onErrorDropped(dropped::add);
		ConnectionPool pool = build.apply(ConnectionPoolConfiguration.builder(physical).initialSize(0).minIdle(0).maxSize(2)
				.maxAcquireTime(Duration.ofSeconds(10)));
		Connection first = Mono.from(pool.create()).block(Duration.ofSeconds(10));
		CountDownLatch insideRecycle = new CountDownLatch(1);
		CountDownLatch goOn = new CountDownLatch(1);
		Thread a = new Thread(() -> Mono.from(first.close()).subscribe(null, null, () -> {
			insideRecycle.countDown();
			await(goOn);
		}), "releasing-thread");
		a.start();
		assertThat(insideRecycle.await(10, TimeUnit.SECONDS)).as("thread A is inside the recycling").isTrue();

		// The slot A queued is taken and released again before A checks it.
		Connection second = Mono.from(pool.create()).block(Duration.ofSeconds(10));
		Mono.from(second.close()).block(Duration.ofSeconds(10));
		Throwable[] disposeError = new Throwable[1];
		CountDownLatch disposed = new CountDownLatch(1);
		pool.disposeLater().subscribe(null, e -> {
			disposeError[0] = e;
			disposed.countDown();
		}, disposed::countDown);

		goOn.countDown();
		a.join(10_000);
		assertThat(disposed.await(10, TimeUnit.SECONDS)).as("pool disposed").isTrue();
		return new Outcome(disposeError[0]);
	}

	private static void await(CountDownLatch latch) {
		try {
			latch.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}
}
