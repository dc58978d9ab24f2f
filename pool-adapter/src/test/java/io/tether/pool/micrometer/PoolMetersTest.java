package io.tether.pool.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.Connection;
import io.tether.context.testing.Database;
import io.tether.pool.PoolSettings;
import io.tether.pool.PoolStats;
import io.tether.pool.TetherPool;
import io.tether.pool.ValidationMode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

class PoolMetersTest {

	private final VirtualTimeScheduler time = VirtualTimeScheduler.create();

	private TetherPool pool(PoolSettings.Builder settings) {
		Clock clock = new Clock() {
			@Override
			public ZoneId getZone() {
				return ZoneOffset.UTC;
			}

			@Override
			public Clock withZone(ZoneId zone) {
				return this;
			}

			@Override
			public Instant instant() {
				return Instant.ofEpochMilli(time.now(TimeUnit.MILLISECONDS));
			}
		};
		return TetherPool.create(Database.H2.connectionFactory(),
				settings.validation(ValidationMode.NEVER).clock(clock).scheduler(time).build());
	}

	private static double gauge(MeterRegistry registry, String state) {
		return registry.get("tether.pool.connections").tag("pool", "orders").tag("state", state).gauge().value();
	}

	@Test
	void metersFollowThePool() {
		TetherPool pool = pool(PoolSettings.builder().name("orders").maxSize(2).maxUses(1)
				.acquireTimeout(Duration.ofSeconds(1)).leakDetectionThreshold(Duration.ofSeconds(5)));
		MeterRegistry registry = new SimpleMeterRegistry();
		Disposable binding = PoolMeters.bind(pool, registry);

		Connection a = pool.create().toFuture().join();
		Connection b = pool.create().toFuture().join();
		assertThat(gauge(registry, "acquired")).isEqualTo(2);
		assertThat(gauge(registry, "allocated")).isEqualTo(2);
		assertThat(gauge(registry, "idle")).isZero();
		assertThat(gauge(registry, "max")).isEqualTo(2);
		CompletableFuture<Connection> waiting = pool.create().toFuture();
		assertThat(gauge(registry, "pending")).isEqualTo(1);
		time.advanceTimeBy(Duration.ofSeconds(1));
		assertThat(waiting).isCompletedExceptionally();
		time.advanceTimeBy(Duration.ofSeconds(4));
		Mono.from(a.close()).block();
		Mono.from(b.close()).block();

		assertThat(registry.get("tether.pool.timeouts").tag("pool", "orders").functionCounter().count()).isEqualTo(1);
		assertThat(registry.get("tether.pool.leaks").functionCounter().count()).isEqualTo(2);
		assertThat(registry.get("tether.pool.evictions").functionCounter().count()).as("maxUses=1").isEqualTo(2);
		assertThat(registry.get("tether.pool.validation.failures").functionCounter().count()).isZero();
		assertThat(registry.get("tether.pool.invalidations").functionCounter().count()).isZero();
		Timer acquire = registry.get("tether.pool.acquire").tag("pool", "orders").timer();
		Timer usage = registry.get("tether.pool.usage").tag("pool", "orders").timer();
		assertThat(acquire.count()).isEqualTo(2);
		assertThat(usage.count()).isEqualTo(2);
		assertThat(usage.totalTime(TimeUnit.SECONDS)).isEqualTo(10.0);
		assertThat(gauge(registry, "acquired")).isZero();

		PoolStats stats = pool.stats();
		assertThat(stats.acquireCount()).isEqualTo(2);
		assertThat(stats.timeouts()).isEqualTo(1);
		assertThat(stats.leaks()).isEqualTo(2);
		assertThat(stats.evictions()).isEqualTo(2);
		assertThat(stats.allocated()).isZero();

		binding.dispose();
		assertThat(registry.getMeters()).isEmpty();
		Mono.from(pool.create()).flatMap(c -> Mono.from(c.close())).block();
		assertThat(pool.stats().acquireCount()).isEqualTo(3);
		pool.closeLater().block();
		time.dispose();
	}
}
