package io.tether.pool;

import static io.tether.pool.VirtualPool.release;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class TetherPoolAcquireTest {

	@Test
	void acquireAndReleaseAreCounted() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(3))) {
			assertThat(p.factory.opened).hasValue(0).as("nothing is opened before the first acquisition");
			List<Connection> held = new ArrayList<>();
			for (int i = 0; i < 3; i++) {
				held.add(p.acquire());
			}
			PoolStats s = p.pool.stats();
			assertThat(s.acquired()).isEqualTo(3);
			assertThat(s.allocated()).isEqualTo(3);
			assertThat(s.idle()).isZero();
			assertThat(s.acquireCount()).isEqualTo(3);
			held.forEach(VirtualPool::release);
			s = p.pool.stats();
			assertThat(s.acquired()).isZero();
			assertThat(s.idle()).isEqualTo(3);
			assertThat(p.factory.opened).hasValue(3);
			assertThat(p.factory.closed).hasValue(0);

			Connection again = p.acquire();
			assertThat(p.factory.opened).as("an idle connection is reused").hasValue(3);
			release(again);
			assertThat(p.pool.stats().acquireCount()).isEqualTo(4);
		}
	}

	@Test
	void closeReleasesOnceAndLaterUseFails() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			Connection c = p.acquire();
			release(c);
			release(c);
			Mono.from(c.close()).as(StepVerifier::create).verifyComplete();
			assertThat(p.pool.stats().idle()).isEqualTo(1);
			assertThat(p.pool.stats().acquired()).isZero();
			assertThatThrownBy(() -> c.createStatement("SELECT 1")).isInstanceOf(IllegalStateException.class)
					.hasMessage("This connection was closed and returned to pool 'tether'");
			Mono.from(c.beginTransaction()).as(StepVerifier::create).verifyError(IllegalStateException.class);
			Mono.from(c.validate(io.r2dbc.spi.ValidationDepth.LOCAL)).as(StepVerifier::create).expectNext(false).verifyComplete();
			// the next borrower gets the same physical connection, unharmed
			Connection next = p.acquire();
			assertThat(VirtualPool.query(next, "SELECT 1", Integer.class)).containsExactly(1);
			release(next);
			assertThat(p.factory.opened).hasValue(1);
		}
	}

	@Test
	void exhaustedPoolTimesOutWithTheLimitAndTheState() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2).acquireTimeout(Duration.ofSeconds(2)))) {
			Connection a = p.acquire();
			Connection b = p.acquire();
			List<Duration> timedOut = new ArrayList<>();
			p.pool.addListener(new PoolListener() {
				@Override
				public void timedOut(Duration waited) {
					timedOut.add(waited);
				}
			});
			CompletableFuture<Connection> third = p.pool.create().toFuture();
			p.advance(Duration.ofMillis(1999));
			assertThat(third).isNotDone();
			p.advance(Duration.ofMillis(1));
			assertThat(third).isCompletedExceptionally();
			Throwable error = third.handle((c, e) -> e).join();
			assertThat(error).isInstanceOf(PoolAcquireTimeoutException.class).isInstanceOf(R2dbcTimeoutException.class)
					.hasMessage("Connection not available: timed out after 2000ms (max=2, acquired=2, idle=0, pending=1)");
			PoolStats atTimeout = ((PoolAcquireTimeoutException) error).stats();
			assertThat(atTimeout.acquired()).isEqualTo(2);
			assertThat(timedOut).containsExactly(Duration.ofSeconds(2));
			assertThat(p.pool.stats().timeouts()).isEqualTo(1);
			assertThat(p.pool.stats().pending()).as("the timed-out acquisition no longer waits").isZero();
			release(a);
			release(b);
			assertThat(p.pool.stats().idle()).isEqualTo(2);
			assertThat(p.pool.stats().acquired()).isZero();
		}
	}

	@Test
	void waitingAcquisitionGetsAReleasedConnection() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).acquireTimeout(Duration.ofSeconds(2)))) {
			Connection a = p.acquire();
			CompletableFuture<Connection> second = p.pool.create().toFuture();
			p.advance(Duration.ofSeconds(1));
			assertThat(second).isNotDone();
			release(a);
			assertThat(second).isCompleted();
			p.advance(Duration.ofSeconds(5));
			release(second.join());
			assertThat(p.pool.stats().timeouts()).isZero();
			assertThat(p.factory.opened).hasValue(1);
		}
	}

	@Test
	void zeroAcquireTimeoutFailsFast() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2).acquireTimeout(Duration.ZERO))) {
			Connection a = p.acquire();
			Connection b = p.acquire();
			p.pool.create().as(StepVerifier::create)
					.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(PoolAcquireTimeoutException.class)
							.hasMessage("Connection not available: acquireTimeout is 0 (fail fast) and none is free "
									+ "(max=2, acquired=2, idle=0, pending=0)"))
					.verify(Duration.ofSeconds(5));
			assertThat(p.pool.stats().timeouts()).isEqualTo(1);
			release(a);
			release(p.acquire());
			release(b);
		}
	}

	@Test
	void unlimitedAcquireTimeoutWaits() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).acquireTimeoutUnlimited())) {
			Connection a = p.acquire();
			CompletableFuture<Connection> second = p.pool.create().toFuture();
			p.advance(Duration.ofDays(3));
			assertThat(second).isNotDone();
			release(a);
			release(second.join());
		}
	}

	@Test
	void pendingLimitRefusesAtOnce() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).maxPendingAcquires(1))) {
			Connection a = p.acquire();
			CompletableFuture<Connection> waiting = p.pool.create().toFuture();
			p.pool.create().as(StepVerifier::create)
					.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(PoolPendingLimitException.class)
							.isInstanceOf(R2dbcTransientResourceException.class)
							.hasMessage("Connection not available: 1 acquisitions are already waiting (maxPendingAcquires=1, "
									+ "max=1, acquired=1, idle=0, pending=1)"))
					.verify(Duration.ofSeconds(5));
			release(a);
			release(waiting.join());
			assertThat(p.pool.stats().acquired()).isZero();
		}
	}

	@Test
	void cancelledAcquisitionLeavesNothingBehind() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			Connection a = p.acquire();
			p.pool.create().as(StepVerifier::create).expectSubscription().thenCancel().verify();
			assertThat(p.pool.stats().pending()).isZero();
			release(a);
			assertThat(p.pool.stats().idle()).isEqualTo(1);
			assertThat(p.pool.stats().acquired()).isZero();
			// cancelled while the connection is being opened: it lands in the pool
			try (VirtualPool q = new VirtualPool(VirtualPool.settings().maxSize(1))) {
				q.pool.create().take(Duration.ZERO, q.time).as(StepVerifier::create).verifyComplete();
				assertThat(q.pool.stats().acquired()).isZero();
			}
		}
	}

	@Test
	void newConnectionErrorIsTheDriversAndReturnsThePermit() {
		VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).initSql("SELECT * FROM no_such_table"));
		try (p) {
			p.pool.create().as(StepVerifier::create)
					.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(io.r2dbc.spi.R2dbcException.class)
							.hasMessageContaining("NO_SUCH_TABLE"))
					.verify(Duration.ofSeconds(5));
			assertThat(p.pool.stats().allocated()).as("the permit came back").isZero();
			assertThat(p.factory.open()).as("the half-initialized connection was closed").isZero();
		}
	}

	@Test
	void createFromUrl() {
		TetherPool pool = TetherPool.create("r2dbc:h2:mem:///tether_url_test?maxSize=3&name=urlpool&options=DB_CLOSE_DELAY%3D-1");
		try {
			assertThat(pool.settings().maxSize()).isEqualTo(3);
			assertThat(pool.settings().name()).isEqualTo("urlpool");
			assertThat(pool.getMetadata().getName()).isEqualTo("H2");
			Integer one = Mono.usingWhen(pool.create(),
					c -> Mono.from(c.createStatement("SELECT 1").execute()).flatMap(r -> Mono.from(r.map((row, md) -> row.get(0, Integer.class)))),
					Connection::close).block(Duration.ofSeconds(10));
			assertThat(one).isEqualTo(1);
		}
		finally {
			pool.close();
		}
		assertThat(pool.isClosed()).isTrue();
	}

	@Test
	void blockingCloseRefusesNonBlockingThreads() {
		TetherPool pool = TetherPool.create(io.tether.context.testing.Database.H2.connectionFactory(), PoolSettings.defaults());
		Mono.fromRunnable(pool::close).subscribeOn(Schedulers.parallel()).as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
						.hasMessageContaining("use closeLater() or close(Duration)"))
				.verify(Duration.ofSeconds(5));
		assertThat(pool.isClosed()).isFalse();
		pool.close();
		assertThat(pool.isClosed()).isTrue();
	}
}
