package io.tether.test.internal;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits for work that runs in the background (a release after a cancel) before a check. Not a timing
 * assertion: a release that never happens fails whatever the limit; the limit only bounds how long a failing
 * test takes to say so.
 */
public final class Await {

	private Await() {
	}

	/** Polls {@code condition} until it holds or {@code limit} passes; returns its last value. */
	public static boolean until(BooleanSupplier condition, Duration limit) {
		long deadline = System.nanoTime() + limit.toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() - deadline >= 0) {
				return condition.getAsBoolean();
			}
			try {
				Thread.sleep(5);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				return condition.getAsBoolean();
			}
		}
		return true;
	}
}
