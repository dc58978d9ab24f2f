package io.tether.pool.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Polls a condition that becomes true in the background (a release, a server-side exit, a background
 * eviction). The limit is a hang guard, never a timing assertion: a condition that never holds fails
 * whatever the limit, one that holds late only makes the test slower.
 */
public final class Await {

	public static final Duration DEFAULT = Duration.ofSeconds(30);

	private Await() {
	}

	public static void until(BooleanSupplier condition, String what) {
		until(condition, DEFAULT, () -> what);
	}

	public static void until(BooleanSupplier condition, Duration limit, Supplier<String> what) {
		long deadline = System.nanoTime() + limit.toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				assertThat(condition.getAsBoolean()).as("%s (waited %s)", what.get(), limit).isTrue();
				return;
			}
			pause(Duration.ofMillis(20));
		}
	}

	/** Lets time pass (for lifetimes and thresholds to expire); not a measurement. */
	public static void pause(Duration d) {
		try {
			Thread.sleep(d.toMillis());
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new AssertionError(e);
		}
	}
}
