package io.tether.test.internal;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Wrapped;
import io.tether.pool.PoolStats;
import io.tether.pool.TetherPool;
import org.jspecify.annotations.Nullable;

/** The gauges of either pool the kit understands: a {@link TetherPool} or an r2dbc-pool {@link ConnectionPool}. */
public final class PoolGauges {

	private PoolGauges() {
	}

	/** The pool {@code factory} is or wraps (up to 16 levels), or {@code null}. */
	public static @Nullable ConnectionFactory find(ConnectionFactory factory) {
		Object f = factory;
		for (int depth = 0; depth < 16 && f != null; depth++) {
			if (f instanceof TetherPool || f instanceof ConnectionPool) {
				return (ConnectionFactory) f;
			}
			f = f instanceof Wrapped<?> w ? w.unwrap() : null;
		}
		return null;
	}

	/** Connections checked out of {@code pool} now. */
	public static int acquired(ConnectionFactory pool) {
		if (pool instanceof TetherPool p) {
			return p.stats().acquired();
		}
		return metrics(pool).acquiredSize();
	}

	/** Acquisitions waiting for a connection of {@code pool} now. */
	public static int pending(ConnectionFactory pool) {
		if (pool instanceof TetherPool p) {
			return p.stats().pending();
		}
		return metrics(pool).pendingAcquireSize();
	}

	/** The state of {@code pool} for a message, e.g. {@code max=4, acquired=1, idle=3, pending=0}. */
	public static String describe(ConnectionFactory pool) {
		if (pool instanceof TetherPool p) {
			PoolStats s = p.stats();
			return s.describeState();
		}
		PoolMetrics m = metrics(pool);
		return "max=" + m.getMaxAllocatedSize() + ", acquired=" + m.acquiredSize() + ", idle=" + m.idleSize()
				+ ", pending=" + m.pendingAcquireSize();
	}

	private static PoolMetrics metrics(ConnectionFactory pool) {
		// r2dbc-pool has metrics whenever its reactor-pool is instrumented, which it always is since 0.8.
		return ((ConnectionPool) pool).getMetrics().orElseThrow(() -> new IllegalStateException(
				"r2dbc-pool " + pool + " exposes no metrics, so the kit cannot tell whether it is fully returned"));
	}
}
