package io.tether.context.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The bound on a scope's cleanup steps: a step that does not finish in time fails and is cancelled, and a
 * step that does finish costs no timer task of its own (a timer task per step wakes a worker thread each
 * time, which under load cost more CPU than the rest of Tether's statement path).
 */
class CleanupBoundTest {

	private static final Duration TIMEOUT = Duration.ofSeconds(10);

	private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
	private final CountingScheduler timer = new CountingScheduler(time);
	private final CleanupBound bound = new CleanupBound(TIMEOUT, timer, Duration.ofMillis(5));

	private Mono<Void> bounded(Mono<Void> step) {
		return bound.bound(step, () -> new TimeoutException("step timed out"));
	}

	@Test
	void aStepThatNeverFinishesFailsAfterTheTimeoutAndIsCancelled() {
		AtomicBoolean cancelled = new AtomicBoolean();
		StepVerifier.withVirtualTime(() -> bounded(Mono.<Void>never().doOnCancel(() -> cancelled.set(true))), () -> time, 1)
				.expectSubscription()
				.expectNoEvent(TIMEOUT.minusMillis(1))
				.thenAwait(Duration.ofMillis(1))
				.expectErrorMessage("step timed out")
				.verify(Duration.ofSeconds(5));
		assertThat(cancelled).as("the step was cancelled when it timed out").isTrue();
	}

	@Test
	void stepsThatFinishWhileSubscribedScheduleNothing() {
		for (int i = 0; i < 1_000; i++) {
			StepVerifier.create(bounded(Mono.empty())).verifyComplete();
			StepVerifier.create(bounded(Mono.error(new IllegalStateException("failed " + i))))
					.verifyErrorMessage("failed " + i);
		}
		assertThat(timer.scheduled).as("timer tasks scheduled").hasValue(0);
	}

	@Test
	void stepsThatFinishLaterShareOneSweepAndLeaveNothingBehind() {
		List<Sinks.Empty<Void>> steps = new ArrayList<>();
		AtomicInteger completed = new AtomicInteger();
		for (int i = 0; i < 1_000; i++) {
			Sinks.Empty<Void> step = Sinks.empty();
			steps.add(step);
			bounded(step.asMono()).subscribe(null, e -> { }, completed::incrementAndGet);
		}
		steps.forEach(Sinks.Empty::tryEmitEmpty);
		assertThat(completed).hasValue(1_000);
		assertThat(timer.scheduled).as("one sweep for all steps in flight").hasValue(1);

		time.advanceTimeBy(TIMEOUT.multipliedBy(3));
		assertThat(timer.scheduled).as("no further sweep once nothing is in flight").hasValue(1);
	}

	@Test
	void aStepThatStartsWhileASweepIsPendingTimesOutWithinATenthMore() {
		bounded(Mono.never()).subscribe(null, e -> { });
		time.advanceTimeBy(Duration.ofSeconds(5));
		AtomicInteger failed = new AtomicInteger();
		bounded(Mono.never()).subscribe(null, e -> failed.incrementAndGet());

		time.advanceTimeBy(TIMEOUT.minusMillis(1));
		assertThat(failed).as("not before its own timeout").hasValue(0);
		time.advanceTimeBy(TIMEOUT.dividedBy(10));
		assertThat(failed).as("within a tenth of the timeout after it").hasValue(1);
	}

	@Test
	void aCancelledStepIsCancelledAndNeverFails() {
		AtomicBoolean cancelled = new AtomicBoolean();
		AtomicInteger signals = new AtomicInteger();
		Disposable d = bounded(Mono.<Void>never().doOnCancel(() -> cancelled.set(true)))
				.subscribe(null, e -> signals.incrementAndGet(), signals::incrementAndGet);
		d.dispose();
		time.advanceTimeBy(TIMEOUT.multipliedBy(2));
		assertThat(cancelled).isTrue();
		assertThat(signals).as("signals after the cancel").hasValue(0);
	}

	@Test
	void aStepOnADisposedTimerFailsWithTheRejection() {
		VirtualTimeScheduler disposed = VirtualTimeScheduler.create();
		disposed.dispose();
		CleanupBound dead = new CleanupBound(TIMEOUT, disposed, Duration.ofMillis(5));
		StepVerifier.create(dead.bound(Mono.never(), () -> new TimeoutException("unused")))
				.expectError(RejectedExecutionException.class)
				.verify(Duration.ofSeconds(5));
		StepVerifier.create(dead.bound(Mono.empty(), () -> new TimeoutException("unused"))).verifyComplete();
	}

	/** A scheduler that counts the tasks scheduled on it. */
	private static final class CountingScheduler implements Scheduler {

		private final Scheduler delegate;
		final AtomicInteger scheduled = new AtomicInteger();

		CountingScheduler(Scheduler delegate) {
			this.delegate = delegate;
		}

		@Override
		public Disposable schedule(Runnable task) {
			scheduled.incrementAndGet();
			return delegate.schedule(task);
		}

		@Override
		public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
			scheduled.incrementAndGet();
			return delegate.schedule(task, delay, unit);
		}

		@Override
		public long now(TimeUnit unit) {
			return delegate.now(unit);
		}

		@Override
		public Worker createWorker() {
			return delegate.createWorker();
		}
	}
}
