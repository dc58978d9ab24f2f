package io.tether.pool.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import reactor.pool.AllocationStrategy;

/**
 * Permits for at most {@code max} connections, where a warm-up ({@code getPermits(0)}) opens one
 * connection if fewer than {@code minIdle} are idle.
 *
 * <p>reactor-pool's size-based strategy tops up to a minimum of <em>allocated</em> connections and grants
 * a whole batch to one warm-up; if one of the batch fails, {@code Pool.warmup()} never returns the permits
 * of the others. Granting one permit per warm-up keeps the count exact (a failed allocation returns its
 * permit), and counting idle connections instead of allocated ones gives HikariCP's meaning of
 * "minimum idle". An acquisition ({@code getPermits(1)}) gets exactly what it asks for.
 */
final class IdleTopUpAllocationStrategy implements AllocationStrategy {

	private final int max;
	private final int minIdle;
	private final Logger log;
	private final AtomicInteger available;
	private volatile IntSupplier idle = () -> 0;

	IdleTopUpAllocationStrategy(int max, int minIdle, Logger log) {
		this.max = max;
		this.minIdle = minIdle;
		this.log = log;
		this.available = new AtomicInteger(max);
	}

	/** Where to read the current idle count; set once the pool exists. */
	void idleCount(IntSupplier idle) {
		this.idle = idle;
	}

	@Override
	public int estimatePermitCount() {
		return available.get();
	}

	@Override
	public int getPermits(int desired) {
		if (desired < 0) {
			return 0;
		}
		int wanted = desired;
		if (desired == 0) {
			wanted = idle.getAsInt() < minIdle ? 1 : 0;
		}
		if (wanted == 0) {
			return 0;
		}
		for (;;) {
			int p = available.get();
			int granted = Math.min(p, wanted);
			if (granted == 0) {
				return 0;
			}
			if (available.compareAndSet(p, p - granted)) {
				return granted;
			}
		}
	}

	@Override
	public int permitGranted() {
		return max - available.get();
	}

	@Override
	public int permitMinimum() {
		return minIdle;
	}

	@Override
	public int permitMaximum() {
		return max;
	}

	@Override
	public void returnPermits(int returned) {
		for (;;) {
			int p = available.get();
			int next = p + returned;
			if (next > max) {
				// Would mean a connection was destroyed twice; clamp rather than throw inside the pool's
				// destroy path, and say so, as it is a bug worth reporting.
				log.warn("Too many permits returned ({} returned, {} of {} already available); clamping", returned, p, max);
				next = max;
			}
			if (available.compareAndSet(p, next)) {
				return;
			}
		}
	}
}
