package io.tether.pool.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tether.pool.PoolListener;
import io.tether.pool.PoolStats;
import io.tether.pool.TetherPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import reactor.core.Disposable;

/**
 * Publishes a {@link TetherPool}'s state to Micrometer. Every meter carries the tag
 * {@code pool=<settings name>}:
 * <ul>
 *   <li>gauge {@code tether.pool.connections} with tag {@code state} = {@code acquired}, {@code idle},
 *       {@code pending}, {@code allocated} or {@code max};</li>
 *   <li>timer {@code tether.pool.acquire}: time from subscription to {@code create()} until a connection is
 *       handed out;</li>
 *   <li>timer {@code tether.pool.usage}: time a connection was held before it was closed;</li>
 *   <li>function counters {@code tether.pool.timeouts}, {@code tether.pool.leaks},
 *       {@code tether.pool.evictions}, {@code tether.pool.validation.failures} and
 *       {@code tether.pool.invalidations}, read from {@link TetherPool#stats()}.</li>
 * </ul>
 * Needs {@code micrometer-core} on the class path (an optional dependency of this module).
 *
 * @since 0.1
 */
public final class PoolMeters {

	private PoolMeters() {
	}

	/**
	 * Registers the meters of {@code pool} in {@code registry}. Gauges hold the pool weakly. Disposing the
	 * returned {@link Disposable} stops the timers and removes every meter from the registry.
	 */
	public static Disposable bind(TetherPool pool, MeterRegistry registry) {
		Objects.requireNonNull(pool, "pool must not be null");
		Objects.requireNonNull(registry, "registry must not be null");
		Tags tags = Tags.of("pool", pool.settings().name());
		List<Meter> meters = new ArrayList<>();
		gauge(meters, registry, pool, tags, "acquired", PoolStats::acquired);
		gauge(meters, registry, pool, tags, "idle", PoolStats::idle);
		gauge(meters, registry, pool, tags, "pending", PoolStats::pending);
		gauge(meters, registry, pool, tags, "allocated", PoolStats::allocated);
		gauge(meters, registry, pool, tags, "max", PoolStats::maxSize);
		counter(meters, registry, pool, tags, "tether.pool.timeouts", "Acquisitions that timed out", s -> s.timeouts());
		counter(meters, registry, pool, tags, "tether.pool.leaks", "Connections reported as suspected leaks", s -> s.leaks());
		counter(meters, registry, pool, tags, "tether.pool.evictions",
				"Connections closed by policy (maxLifetime, maxIdleTime, maxIdle, maxUses)", s -> s.evictions());
		counter(meters, registry, pool, tags, "tether.pool.validation.failures", "Failed connection validations",
				s -> s.validationFailures());
		counter(meters, registry, pool, tags, "tether.pool.invalidations", "Broken connections destroyed",
				s -> s.invalidations());
		Timer acquire = Timer.builder("tether.pool.acquire").description("Time to get a connection from the pool")
				.tags(tags).register(registry);
		Timer usage = Timer.builder("tether.pool.usage").description("Time a connection was held").tags(tags)
				.register(registry);
		meters.add(acquire);
		meters.add(usage);
		Disposable listener = pool.addListener(new PoolListener() {
			@Override
			public void acquired(Duration waited) {
				acquire.record(waited);
			}

			@Override
			public void released(Duration held) {
				usage.record(held);
			}
		});
		return () -> {
			listener.dispose();
			for (Meter m : meters) {
				registry.remove(m);
			}
		};
	}

	private static void gauge(List<Meter> meters, MeterRegistry registry, TetherPool pool, Tags tags, String state,
			ToDoubleFunction<PoolStats> value) {
		meters.add(Gauge.builder("tether.pool.connections", pool, p -> value.applyAsDouble(p.stats()))
				.description("Connections of the pool by state")
				.tags(tags)
				.tag("state", state)
				.register(registry));
	}

	private static void counter(List<Meter> meters, MeterRegistry registry, TetherPool pool, Tags tags, String name,
			String description, ToDoubleFunction<PoolStats> value) {
		meters.add(FunctionCounter.builder(name, pool, p -> value.applyAsDouble(p.stats()))
				.description(description)
				.tags(tags)
				.register(registry));
	}
}
