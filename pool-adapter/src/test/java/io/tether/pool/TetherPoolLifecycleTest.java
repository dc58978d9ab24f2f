package io.tether.pool;

import static io.tether.pool.VirtualPool.query;
import static io.tether.pool.VirtualPool.release;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class TetherPoolLifecycleTest {

	@Test
	void initSqlRunsOncePerPhysicalConnection() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2)
				.initSql("SET @inits = COALESCE(@inits, 0) + 1", "SET @marker = 'init'"))) {
			for (int round = 0; round < 5; round++) {
				Connection a = p.acquire();
				Connection b = p.acquire();
				assertThat(query(a, "SELECT @inits", Integer.class)).containsExactly(1);
				assertThat(query(b, "SELECT @inits", Integer.class)).containsExactly(1);
				release(a);
				release(b);
			}
			assertThat(p.factory.opened).hasValue(2);
			for (FaultyConnectionFactory.FaultyConnection c : p.factory.connections) {
				assertThat(c.sql.stream().filter(s -> s.startsWith("SET @inits"))).as("%s", c).hasSize(1);
				assertThat(c.sql.get(0)).startsWith("SET @inits");
				assertThat(c.sql.get(1)).isEqualTo("SET @marker = 'init'");
			}
		}
	}

	@Test
	void maxUsesClosesAConnectionAfterItsNthCheckout() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).maxUses(2))) {
			RecordingListener events = new RecordingListener();
			p.pool.addListener(events);
			List<Integer> sessions = new ArrayList<>();
			for (int i = 0; i < 5; i++) {
				Connection c = p.acquire();
				sessions.add(query(c, "SELECT SESSION_ID()", Integer.class).get(0));
				release(c);
			}
			assertThat(sessions.get(0)).isEqualTo(sessions.get(1));
			assertThat(sessions.get(2)).isEqualTo(sessions.get(3)).isNotEqualTo(sessions.get(1));
			assertThat(sessions.get(4)).isNotEqualTo(sessions.get(3));
			assertThat(p.factory.opened).hasValue(3);
			assertThat(p.factory.closed).hasValue(2);
			assertThat(events.of("evicted")).containsExactly("evicted:maxUses", "evicted:maxUses");
			assertThat(p.pool.stats().evictions()).isEqualTo(2);
		}
	}

	@Test
	void idleConnectionsAboveMaxIdleAreClosedOnRelease() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(5).maxIdle(2))) {
			RecordingListener events = new RecordingListener();
			p.pool.addListener(events);
			List<Connection> held = new ArrayList<>();
			for (int i = 0; i < 4; i++) {
				held.add(p.acquire());
			}
			held.forEach(VirtualPool::release);
			PoolStats s = p.pool.stats();
			assertThat(s.idle()).isEqualTo(2);
			assertThat(s.allocated()).isEqualTo(2);
			assertThat(p.factory.closed).hasValue(2);
			assertThat(events.of("evicted")).containsExactly("evicted:maxIdle", "evicted:maxIdle");
		}
	}

	@Test
	void idleConnectionsAreEvictedAfterMaxIdleTime() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(3).maxIdleTime(Duration.ofMinutes(1)))) {
			RecordingListener events = new RecordingListener();
			p.pool.addListener(events);
			Connection a = p.acquire();
			Connection b = p.acquire();
			release(a);
			p.advance(Duration.ofSeconds(40));
			release(b);
			p.advance(Duration.ofSeconds(30));
			assertThat(p.pool.stats().idle()).as("a idle 70 s, b idle 30 s").isEqualTo(1);
			assertThat(p.factory.connection(1).isClosed).isTrue();
			assertThat(p.factory.connection(2).isClosed).isFalse();
			p.advance(Duration.ofSeconds(60));
			assertThat(p.pool.stats().idle()).isZero();
			assertThat(p.pool.stats().allocated()).isZero();
			assertThat(events.of("evicted")).containsExactly("evicted:maxIdleTime", "evicted:maxIdleTime");
			assertThat(p.pool.stats().evictions()).isEqualTo(2);
		}
	}

	@Test
	void connectionsExpireAfterTheirJitteredLifetime() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(5).maxLifetime(Duration.ofMinutes(10))
				.maxLifetimeJitter(Duration.ofMinutes(1)))) {
			RecordingListener events = new RecordingListener();
			p.pool.addListener(events);
			List<Connection> held = new ArrayList<>();
			for (int i = 0; i < 5; i++) {
				held.add(p.acquire());
			}
			held.forEach(VirtualPool::release);
			p.advance(Duration.ofMinutes(9).minusSeconds(1));
			assertThat(p.pool.stats().idle()).as("no lifetime is shorter than maxLifetime - jitter").isEqualTo(5);
			p.advance(Duration.ofMinutes(1).plusSeconds(31));
			assertThat(p.pool.stats().idle()).isZero();
			assertThat(events.of("evicted")).hasSize(5).containsOnly("evicted:maxLifetime");
		}
	}

	@Test
	void aConnectionPastItsLifetimeIsClosedWhenReturned() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).maxLifetime(Duration.ofMinutes(10))
				.maxLifetimeJitter(Duration.ZERO))) {
			RecordingListener events = new RecordingListener();
			p.pool.addListener(events);
			Connection c = p.acquire();
			p.advance(Duration.ofMinutes(11));
			assertThat(p.factory.connection(1).isClosed).as("never taken from its holder").isFalse();
			release(c);
			assertThat(p.factory.connection(1).isClosed).isTrue();
			assertThat(events.of("evicted")).containsExactly("evicted:maxLifetime");
			Connection next = p.acquire();
			assertThat(p.factory.opened).hasValue(2);
			release(next);
		}
	}

	@Test
	void warmupOpensMinIdleConnections() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(5).minIdle(3))) {
			assertThat(p.factory.opened).hasValue(0);
			p.pool.warmup().as(StepVerifier::create).expectNext(3).verifyComplete();
			assertThat(p.pool.stats().idle()).isEqualTo(3);
			p.pool.warmup().as(StepVerifier::create).expectNext(0).verifyComplete();
			assertThat(p.factory.opened).hasValue(3);
		}
		try (VirtualPool none = new VirtualPool(VirtualPool.settings().maxSize(5))) {
			none.pool.warmup().as(StepVerifier::create).expectNext(0).verifyComplete();
		}
	}

	@Test
	void minIdleIsToppedUpInTheBackground() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(4).minIdle(2))) {
			p.advance(Duration.ofSeconds(30));
			assertThat(p.pool.stats().idle()).isEqualTo(2);
			Connection a = p.acquire();
			Connection b = p.acquire();
			assertThat(p.pool.stats().idle()).isZero();
			p.advance(Duration.ofSeconds(30));
			assertThat(p.pool.stats().idle()).isEqualTo(2);
			assertThat(p.pool.stats().allocated()).isEqualTo(4);
			Connection c = p.acquire();
			Connection d = p.acquire();
			p.advance(Duration.ofSeconds(30));
			assertThat(p.pool.stats().allocated()).as("never above maxSize").isEqualTo(4);
			List.of(a, b, c, d).forEach(VirtualPool::release);
		}
	}

	@Test
	void idleConnectionsAreKeptAlive() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2).keepAliveInterval(Duration.ofMinutes(1))
				.validationQuery("SELECT 'keep-alive'"))) {
			release(p.acquire());
			p.advance(Duration.ofSeconds(30));
			assertThat(p.factory.connection(1).sql).doesNotContain("SELECT 'keep-alive'");
			p.advance(Duration.ofSeconds(30));
			assertThat(p.factory.connection(1).sql).containsOnlyOnce("SELECT 'keep-alive'");
			p.advance(Duration.ofSeconds(30));
			assertThat(p.factory.connection(1).sql).as("checked again a full interval later").containsOnlyOnce("SELECT 'keep-alive'");
			p.advance(Duration.ofSeconds(30));
			assertThat(p.factory.connection(1).sql.stream().filter("SELECT 'keep-alive'"::equals)).hasSize(2);
			PoolStats s = p.pool.stats();
			assertThat(s.idle()).isEqualTo(1);
			assertThat(s.acquired()).isZero();
			assertThat(s.acquireCount()).as("keep-alive checkouts are not counted as acquisitions").isEqualTo(1);
		}
	}

	@Test
	void aConnectionFailingItsKeepAliveIsClosed() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2).keepAliveInterval(Duration.ofMinutes(1)))) {
			RecordingListener events = new RecordingListener();
			p.pool.addListener(events);
			release(p.acquire());
			p.factory.connection(1).validateAnswer = false;
			p.advance(Duration.ofMinutes(1));
			assertThat(p.factory.connection(1).isClosed).isTrue();
			assertThat(p.pool.stats().validationFailures()).isEqualTo(1);
			assertThat(p.pool.stats().allocated()).isZero();
			assertThat(events.of("evicted")).containsExactly("evicted:validation");
		}
	}

	@Test
	void keepAliveDoesNotResetTheIdleTime() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).keepAliveInterval(Duration.ofMinutes(1))
				.maxIdleTime(Duration.ofMinutes(3)))) {
			release(p.acquire());
			p.advance(Duration.ofMinutes(3).plusSeconds(30));
			assertThat(p.factory.connection(1).validations.get()).isPositive();
			assertThat(p.factory.connection(1).isClosed).isTrue();
		}
	}

	@Test
	void closeWaitsForHeldConnectionsAndRefusesNewAcquisitions() {
		VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2));
		Connection held = p.acquire();
		release(p.acquire());
		CompletableFuture<Void> closing = p.pool.close(Duration.ofSeconds(10)).toFuture();
		assertThat(p.pool.isClosed()).isTrue();
		assertThat(closing).isNotDone();
		p.pool.create().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(PoolClosedException.class)
						.hasMessage("Pool 'tether' is closed (closing); no connection can be acquired"))
				.verify(Duration.ofSeconds(5));
		p.advance(Duration.ofSeconds(5));
		assertThat(query(held, "SELECT 1", Integer.class)).as("the holder can still use it").containsExactly(1);
		release(held);
		assertThat(closing).isCompleted();
		assertThat(p.factory.open()).isZero();
		assertThat(p.factory.opened).hasValue(2);
		p.pool.close(Duration.ofSeconds(1)).as(StepVerifier::create).verifyComplete();
		p.pool.create().as(StepVerifier::create).expectErrorMessage("Pool 'tether' is closed; no connection can be acquired")
				.verify(Duration.ofSeconds(5));
		p.time.dispose();
	}

	@Test
	void closeFailsWaitingAcquisitions() {
		VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1));
		Connection held = p.acquire();
		CompletableFuture<Connection> waiting = p.pool.create().toFuture();
		CompletableFuture<Void> closing = p.pool.close(Duration.ofSeconds(10)).toFuture();
		assertThat(waiting).isCompletedExceptionally();
		assertThat(waiting.handle((c, e) -> e).join()).isInstanceOf(PoolClosedException.class);
		release(held);
		assertThat(closing).isCompleted();
		assertThat(p.factory.open()).isZero();
		p.time.dispose();
	}

	@Test
	void afterTheGracePeriodHeldConnectionsAreClosed() {
		VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2));
		Connection held = p.acquire();
		CompletableFuture<Void> closing = p.pool.close(Duration.ofSeconds(5)).toFuture();
		p.advance(Duration.ofMillis(4999));
		assertThat(closing).isNotDone();
		p.advance(Duration.ofMillis(1));
		assertThat(closing).isCompleted();
		assertThat(p.factory.open()).isZero();
		assertThat(p.pool.stats().acquired()).isZero();
		assertThatThrownBy(() -> held.createStatement("SELECT 1")).isInstanceOf(IllegalStateException.class);
		release(held);
		assertThat(p.factory.closed).as("the late close is a no-op").hasValue(1);
		p.time.dispose();
	}

	@Test
	void closeWaitsForAReleaseUnderWay() {
		VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1));
		Connection c = p.acquire();
		Mono.from(c.beginTransaction()).block();
		Sinks.Empty<Void> rollbackMayGo = Sinks.empty();
		p.factory.connection(1).beforeRollback = rollbackMayGo.asMono();
		CompletableFuture<Void> released = Mono.from(c.close()).toFuture();
		CompletableFuture<Void> closing = p.pool.close(Duration.ofSeconds(10)).toFuture();
		assertThat(released).isNotDone();
		assertThat(closing).isNotDone();
		rollbackMayGo.tryEmitEmpty();
		assertThat(released).isCompleted();
		assertThat(closing).isCompleted();
		assertThat(p.factory.open()).isZero();
		assertThat(p.pool.stats().allocated()).isZero();
		p.time.dispose();
	}

	@Test
	void closeLaterClosesHeldConnectionsAtOnce() {
		VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2));
		Connection held = p.acquire();
		p.pool.closeLater().as(StepVerifier::create).verifyComplete();
		assertThat(p.factory.open()).isZero();
		release(held);
		p.time.dispose();
	}

	@Test
	void shutdownHookIsRegisteredOnlyWhenAsked() throws Exception {
		TetherPool pool = TetherPool.create(io.tether.context.testing.Database.H2.connectionFactory(),
				PoolSettings.builder().registerShutdownHook(true).build());
		java.lang.reflect.Field engineField = TetherPool.class.getDeclaredField("engine");
		engineField.setAccessible(true);
		io.tether.pool.internal.PoolEngine engine = (io.tether.pool.internal.PoolEngine) engineField.get(pool);
		assertThat(engine.hasShutdownHook()).isTrue();
		pool.close();
		assertThat(engine.hasShutdownHook()).as("removed when the pool is closed").isFalse();
		TetherPool plain = TetherPool.create(io.tether.context.testing.Database.H2.connectionFactory(), PoolSettings.defaults());
		assertThat(((io.tether.pool.internal.PoolEngine) engineField.get(plain)).hasShutdownHook()).isFalse();
		plain.close();
	}
}
