package io.tether.pool;

import io.r2dbc.spi.Connection;
import io.tether.context.testing.Database;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A pool over a fresh H2 database whose clock and timers run on a private virtual-time scheduler, so
 * tests move time forward with {@link #advance(Duration)} and never wait.
 */
final class VirtualPool implements AutoCloseable {

	final VirtualTimeScheduler time = VirtualTimeScheduler.create();
	final FaultyConnectionFactory factory = new FaultyConnectionFactory(Database.H2.connectionFactory());
	final TetherPool pool;

	VirtualPool(PoolSettings.Builder settings) {
		this(settings, time -> time);
	}

	/** A pool whose timers run on what {@code scheduler} makes of {@link #time} (a wrapper that forwards to it). */
	VirtualPool(PoolSettings.Builder settings, Function<VirtualTimeScheduler, Scheduler> scheduler) {
		this.pool = TetherPool.create(factory, settings.clock(clockOf(time)).scheduler(scheduler.apply(time)).build());
	}

	static PoolSettings.Builder settings() {
		return PoolSettings.builder().validation(ValidationMode.NEVER);
	}

	static Clock clockOf(VirtualTimeScheduler time) {
		return new Clock() {
			@Override
			public ZoneId getZone() {
				return ZoneOffset.UTC;
			}

			@Override
			public Clock withZone(ZoneId zone) {
				return this;
			}

			@Override
			public long millis() {
				return time.now(TimeUnit.MILLISECONDS);
			}

			@Override
			public Instant instant() {
				return Instant.ofEpochMilli(millis());
			}
		};
	}

	void advance(Duration d) {
		time.advanceTimeBy(d);
	}

	/** Acquires synchronously (H2 answers on the calling thread; a pending acquisition fails the test). */
	Connection acquire() {
		Connection c = pool.create().toFuture().getNow(null);
		if (c == null) {
			throw new AssertionError("acquisition did not complete at once; " + pool.stats());
		}
		return c;
	}

	static void release(Connection c) {
		Mono.from(c.close()).toFuture().join();
	}

	static <T> List<T> query(Connection c, String sql, Class<T> type) {
		return Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.map((row, md) -> row.get(0, type)))
				.collectList().toFuture().join();
	}

	/** Asserts that the test returned every connection, closes the pool and asserts every physical connection is closed. */
	@Override
	public void close() {
		try {
			PoolStats stats = pool.stats();
			if (stats.acquired() != 0) {
				throw new AssertionError("connections still checked out at the end of the test: " + stats);
			}
			pool.closeLater().toFuture().join();
			if (factory.open() != 0) {
				throw new AssertionError(factory.open() + " physical connection(s) left open after close: " + pool.stats());
			}
		}
		finally {
			time.dispose();
		}
	}
}
