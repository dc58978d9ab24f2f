package io.tether.pool.internal;

import io.r2dbc.spi.Connection;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * What the reactor-pool stores: one physical connection of the target factory and the pool's own
 * bookkeeping about it. Timestamps come from the settings' clock.
 */
final class PhysicalConnection {

	final long id;
	final Connection connection;
	final long createdAt;
	/** Age at which this connection expires (maxLifetime less its random jitter); 0 = never. */
	final long lifetimeLimitMillis;
	final AtomicLong uses = new AtomicLong();

	/** When an application last returned it (creation time until then); drives maxIdleTime. */
	volatile long lastReturnedAt;
	/** Whether an application holds it (keep-alive checks only idle ones). */
	volatile boolean checkedOut;
	/** Counted among the pool's idle connections for {@code maxIdle} (see {@code PoolEngine#keepIdle}). */
	final java.util.concurrent.atomic.AtomicBoolean countedIdle = new java.util.concurrent.atomic.AtomicBoolean();
	/** When a validation or keep-alive check last succeeded (0 = never). */
	volatile long lastValidatedAt;

	private final AtomicReference<@Nullable String> evictionReason = new AtomicReference<>();
	private volatile @Nullable Throwable brokenBy;

	PhysicalConnection(long id, Connection connection, long createdAt, long lifetimeLimitMillis) {
		this.id = id;
		this.connection = connection;
		this.createdAt = createdAt;
		this.lastReturnedAt = createdAt;
		this.lifetimeLimitMillis = lifetimeLimitMillis;
	}

	/** Records why the connection is about to be destroyed; the first reason wins. */
	void evictFor(String reason) {
		evictionReason.compareAndSet(null, reason);
	}

	@Nullable String evictionReason() {
		return evictionReason.get();
	}

	void markBroken(Throwable cause) {
		if (brokenBy == null) {
			brokenBy = cause;
		}
	}

	boolean isBroken() {
		return brokenBy != null;
	}

	@Nullable Throwable brokenBy() {
		return brokenBy;
	}

	/** The last moment the connection was known to work: created, returned, or validated. */
	long lastActiveAt() {
		return Math.max(lastReturnedAt, lastValidatedAt);
	}

	@Override
	public String toString() {
		return "connection #" + id;
	}
}
