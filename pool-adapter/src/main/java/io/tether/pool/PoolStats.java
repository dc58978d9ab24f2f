package io.tether.pool;

import java.io.Serializable;

/**
 * A snapshot of a {@link TetherPool}: its gauges at the moment {@link TetherPool#stats()} was called, and
 * its counters since it was created. The gauges are read one after another without a lock, so under load
 * they may not add up exactly ({@code allocated == acquired + idle} holds when the pool is quiet).
 *
 * @param name               {@link PoolSettings#name()}
 * @param maxSize            {@link PoolSettings#maxSize()}
 * @param allocated          physical connections open or being opened
 * @param acquired           connections checked out (by applications, and briefly by keep-alive checks)
 * @param idle               connections waiting in the pool
 * @param pending            acquisitions waiting for a connection
 * @param acquireCount       connections handed out to applications
 * @param timeouts           acquisitions that failed with {@link PoolAcquireTimeoutException} (fail-fast ones included)
 * @param leaks              connections reported as suspected leaks
 * @param evictions          connections closed by policy: {@code maxLifetime}, {@code maxIdleTime},
 *                           {@code maxIdle}, {@code maxUses}
 * @param validationFailures validations (on acquire or keep-alive) that failed; each failed connection was closed
 * @param invalidations      connections closed because they were broken: a connection-level error, a failed
 *                           release cleanup, or a result still streaming when the connection was closed
 * @since 0.1
 */
public record PoolStats(String name, int maxSize, int allocated, int acquired, int idle, int pending,
		long acquireCount, long timeouts, long leaks, long evictions, long validationFailures, long invalidations)
		implements Serializable {

	/** The state as the pool's error messages show it: {@code max=10, acquired=10, idle=0, pending=5}. */
	public String describeState() {
		return "max=" + maxSize + ", acquired=" + acquired + ", idle=" + idle + ", pending=" + pending;
	}
}
