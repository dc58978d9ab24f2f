package io.tether.context.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;
import java.time.Duration;

/** Waits for releases that run in the background (after a cancel) and then asserts that nothing leaked. */
public final class Leaks {

	private Leaks() {
	}

	/**
	 * Waits up to 10 s for every connection acquired through {@code counting} to be released, then asserts
	 * the counts balance, no connection was released twice, and the pool (if any) has nothing acquired.
	 * The wait is not a timing assertion: a release that never happens fails whatever the limit.
	 */
	public static void assertAllReleased(CountingConnectionFactory counting, ConnectionPool pool) {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while ((counting.open() != 0 || acquired(pool) != 0) && System.nanoTime() < deadline) {
			sleep();
		}
		assertThat(counting.open()).as("connections acquired but not released (acquired=%d, released=%d)",
				counting.acquired(), counting.released()).isZero();
		assertThat(counting.doubleReleases()).as("connections released twice").isZero();
		assertThat(acquired(pool)).as("pool connections still acquired").isZero();
	}

	private static int acquired(ConnectionPool pool) {
		return pool == null ? 0 : pool.getMetrics().map(PoolMetrics::acquiredSize).orElse(0);
	}

	private static void sleep() {
		try {
			Thread.sleep(5);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new AssertionError(e);
		}
	}
}
