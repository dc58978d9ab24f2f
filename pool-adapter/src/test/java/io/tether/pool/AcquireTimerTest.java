package io.tether.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The acquire timeout is a timer on the pool's scheduler. A checkout that finds an idle connection is handed
 * it at once and needs no timer: arming and cancelling one for every checkout cost a scheduler task (and a
 * worker wake-up) per operation. Only an acquisition that has to wait arms it, and it still times out.
 */
class AcquireTimerTest {

	@Test
	void aCheckoutOfAnIdleConnectionArmsNoTimer() {
		AtomicReference<CountingScheduler> counting = new AtomicReference<>();
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2).acquireTimeout(Duration.ofSeconds(2)),
				time -> counting(counting, time))) {
			CountingScheduler scheduler = counting.get();
			VirtualPool.release(p.acquire());
			int before = scheduler.delayed.get();
			for (int i = 0; i < 5; i++) {
				Connection c = p.acquire();
				assertThat(VirtualPool.query(c, "SELECT 1", Integer.class)).containsExactly(1);
				VirtualPool.release(c);
			}
			assertThat(scheduler.delayed.get() - before).as("timers armed by 5 checkouts of an idle connection").isZero();
			assertThat(p.pool.stats().acquireCount()).isEqualTo(6);
		}
	}

	@Test
	void anAcquisitionThatWaitsArmsTheTimerAndTimesOut() {
		AtomicReference<CountingScheduler> counting = new AtomicReference<>();
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).acquireTimeout(Duration.ofSeconds(2)),
				time -> counting(counting, time))) {
			CountingScheduler scheduler = counting.get();
			VirtualTimeScheduler time = p.time;
			Connection held = p.acquire();
			int before = scheduler.delayed.get();
			StepVerifier.create(p.pool.create())
					.expectSubscription()
					.then(() -> assertThat(scheduler.delayed.get() - before).as("timers armed by a waiting acquisition").isEqualTo(1))
					.then(() -> time.advanceTimeBy(Duration.ofMillis(1999)))
					.expectNoEvent(Duration.ZERO)
					.then(() -> time.advanceTimeBy(Duration.ofMillis(1)))
					.expectError(PoolAcquireTimeoutException.class)
					.verify(Duration.ofSeconds(10));
			VirtualPool.release(held);
			assertThat(p.pool.stats().timeouts()).isEqualTo(1);
		}
	}

	@Test
	void aWaitingAcquisitionHandedAConnectionCancelsItsTimer() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).acquireTimeout(Duration.ofSeconds(2)))) {
			VirtualTimeScheduler time = p.time;
			Connection held = p.acquire();
			Mono<Connection> waiting = p.pool.create();
			StepVerifier.create(waiting.flatMap(c -> Mono.from(c.close()).thenReturn("got one")))
					.expectSubscription()
					.then(() -> VirtualPool.release(held))
					.expectNext("got one")
					.expectComplete()
					.verify(Duration.ofSeconds(10));
			time.advanceTimeBy(Duration.ofSeconds(5));
			assertThat(p.pool.stats().timeouts()).as("the disarmed timer never fires").isZero();
		}
	}

	private static CountingScheduler counting(AtomicReference<CountingScheduler> holder, Scheduler time) {
		CountingScheduler s = new CountingScheduler(time);
		holder.set(s);
		return s;
	}

	/** Forwards to {@code delegate}, counting the tasks scheduled with a delay. */
	static final class CountingScheduler implements Scheduler {

		final Scheduler delegate;
		final AtomicInteger delayed = new AtomicInteger();

		CountingScheduler(Scheduler delegate) {
			this.delegate = delegate;
		}

		@Override
		public Disposable schedule(Runnable task) {
			return delegate.schedule(task);
		}

		@Override
		public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
			delayed.incrementAndGet();
			return delegate.schedule(task, delay, unit);
		}

		@Override
		public Disposable schedulePeriodically(Runnable task, long initialDelay, long period, TimeUnit unit) {
			return delegate.schedulePeriodically(task, initialDelay, period, unit);
		}

		@Override
		public long now(TimeUnit unit) {
			return delegate.now(unit);
		}

		@Override
		public Worker createWorker() {
			return delegate.createWorker();
		}

		@Override
		public void dispose() {
			delegate.dispose();
		}
	}
}
