package io.tether.context.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;
import reactor.util.context.Context;

/**
 * How long one cleanup step of a scope may take (the drain of a cancelled result, a rollback, the restore
 * of session state, the release), and the scheduler that times it. A step that does not finish in time
 * gives up on the connection: it is destroyed instead of waited for. {@code drainBudget} is how long the
 * drain of a cancelled statement may read its remainder before the server is asked to cancel the statement
 * (see {@link ServerCancel}); the drain as a whole stays within {@code timeout}.
 *
 * <p>Almost every step finishes in microseconds, and a release runs two of them, so the bound must cost
 * next to nothing when it is not needed. {@code Mono.timeout} schedules a timer task per step and cancels
 * it again, which wakes a worker of the timer's scheduler each time: under load that was most of Tether's
 * CPU cost per statement beyond the driver's (W1 on PostgreSQL, 32 in flight: 61 against 47 µs per
 * operation). Here a step that finishes while it is being subscribed registers nothing; one that is still
 * running afterwards joins a list in deadline order (every step of one bound has the same timeout), and a
 * single sweep task, scheduled only while the list is not empty and at most every tenth of the timeout,
 * fails the steps whose deadline has passed. A step therefore times out after between {@code timeout} and
 * {@code timeout} plus a tenth of it.
 */
final class CleanupBound {

	private final Duration timeout;
	private final Scheduler timer;
	private final Duration drainBudget;
	private final long timeoutNanos;
	private final long tickNanos;

	// guarded by this: the running steps that outlived their subscription, oldest first
	private @Nullable Step head;
	private @Nullable Step tail;
	private boolean sweepPending;

	CleanupBound(Duration timeout, Scheduler timer, Duration drainBudget) {
		this.timeout = timeout;
		this.timer = timer;
		this.drainBudget = drainBudget;
		this.timeoutNanos = timeout.toNanos();
		this.tickNanos = Math.max(timeoutNanos / 10, TimeUnit.MILLISECONDS.toNanos(1));
	}

	Duration timeout() {
		return timeout;
	}

	Scheduler timer() {
		return timer;
	}

	Duration drainBudget() {
		return drainBudget;
	}

	/**
	 * {@code step}, failed with the error of {@code onTimeout} (which may also record the failure, e.g.
	 * poison the connection) if it has not finished within the bound. On a timeout the step is cancelled.
	 * Cancelling the returned {@code Mono} cancels the step.
	 */
	Mono<Void> bound(Mono<Void> step, Supplier<? extends Throwable> onTimeout) {
		return new BoundedStep(step, this, onTimeout);
	}

	private void register(Step s) {
		s.deadline = timer.now(TimeUnit.NANOSECONDS) + timeoutNanos;
		boolean schedule;
		synchronized (this) {
			if (s.state != Step.RUNNING) {
				return;
			}
			s.prev = tail;
			if (tail == null) {
				head = s;
			}
			else {
				tail.next = s;
			}
			tail = s;
			s.linked = true;
			schedule = !sweepPending;
			sweepPending = true;
		}
		if (schedule) {
			scheduleSweep(timeoutNanos, s);
		}
	}

	private synchronized void unlink(Step s) {
		if (!s.linked) {
			return;
		}
		Step p = s.prev;
		Step n = s.next;
		if (p == null) {
			head = n;
		}
		else {
			p.next = n;
		}
		if (n == null) {
			tail = p;
		}
		else {
			n.prev = p;
		}
		s.prev = null;
		s.next = null;
		s.linked = false;
	}

	private void scheduleSweep(long delayNanos, @Nullable Step registering) {
		try {
			timer.schedule(this::sweep, delayNanos, TimeUnit.NANOSECONDS);
		}
		catch (RuntimeException rejected) {
			// The timer is disposed: nothing can be bounded any more. As Mono.timeout would, the step that
			// needed the timer fails with the rejection; the next registration tries again.
			synchronized (this) {
				sweepPending = false;
			}
			if (registering != null) {
				unlink(registering);
				registering.expire(rejected);
			}
			else {
				for (Step s : expired(Long.MAX_VALUE)) {
					s.expire(rejected);
				}
			}
		}
	}

	private void sweep() {
		long now = timer.now(TimeUnit.NANOSECONDS);
		List<Step> due = expired(now);
		long next = -1;
		synchronized (this) {
			Step h = head;
			if (h == null) {
				sweepPending = false;
			}
			else {
				next = Math.max(h.deadline - now, tickNanos);
			}
		}
		if (next >= 0) {
			scheduleSweep(next, null);
		}
		for (Step s : due) {
			s.expire(null);
		}
	}

	private List<Step> expired(long now) {
		List<Step> due = new ArrayList<>(0);
		synchronized (this) {
			while (head != null && head.deadline <= now) {
				Step s = head;
				unlink(s);
				due.add(s);
			}
		}
		return due;
	}

	private static final class BoundedStep extends Mono<Void> {

		private final Mono<Void> source;
		private final CleanupBound bound;
		private final Supplier<? extends Throwable> onTimeout;

		BoundedStep(Mono<Void> source, CleanupBound bound, Supplier<? extends Throwable> onTimeout) {
			this.source = source;
			this.bound = bound;
			this.onTimeout = onTimeout;
		}

		@Override
		public void subscribe(CoreSubscriber<? super Void> actual) {
			Step s = new Step(actual, bound, onTimeout);
			source.subscribe(s);
			if (s.state == Step.RUNNING) {
				bound.register(s);
			}
		}
	}

	/** One bounded step in flight: the subscriber to the step and, while it runs, a node of the list. */
	private static final class Step implements CoreSubscriber<Void>, Subscription {

		static final int RUNNING = 0;
		static final int FINISHED = 1;
		static final int TIMED_OUT = 2;
		static final int CANCELLED = 3;

		private static final AtomicIntegerFieldUpdater<Step> STATE =
				AtomicIntegerFieldUpdater.newUpdater(Step.class, "state");

		private final CoreSubscriber<? super Void> actual;
		private final CleanupBound bound;
		private final Supplier<? extends Throwable> onTimeout;
		private @Nullable Subscription upstream;
		volatile int state;

		// guarded by the bound
		long deadline;
		@Nullable Step prev;
		@Nullable Step next;
		boolean linked;

		Step(CoreSubscriber<? super Void> actual, CleanupBound bound, Supplier<? extends Throwable> onTimeout) {
			this.actual = actual;
			this.bound = bound;
			this.onTimeout = onTimeout;
		}

		@Override
		public Context currentContext() {
			return actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription s) {
			if (Operators.validate(upstream, s)) {
				upstream = s;
				actual.onSubscribe(this);
			}
		}

		@Override
		public void onNext(Void v) {
			// A Mono<Void> emits nothing.
		}

		@Override
		public void onError(Throwable t) {
			if (STATE.compareAndSet(this, RUNNING, FINISHED)) {
				bound.unlink(this);
				actual.onError(t);
			}
			else if (state != CANCELLED) {
				Operators.onErrorDropped(t, actual.currentContext());
			}
		}

		@Override
		public void onComplete() {
			if (STATE.compareAndSet(this, RUNNING, FINISHED)) {
				bound.unlink(this);
				actual.onComplete();
			}
		}

		@Override
		public void request(long n) {
			Subscription s = upstream;
			if (s != null) {
				s.request(n);
			}
		}

		@Override
		public void cancel() {
			if (STATE.compareAndSet(this, RUNNING, CANCELLED)) {
				bound.unlink(this);
				Subscription s = upstream;
				if (s != null) {
					s.cancel();
				}
			}
		}

		/** The deadline passed ({@code rejected} null) or the timer refused to time the step. */
		void expire(@Nullable Throwable rejected) {
			if (!STATE.compareAndSet(this, RUNNING, TIMED_OUT)) {
				return;
			}
			Subscription s = upstream;
			if (s != null) {
				s.cancel();
			}
			Throwable error;
			try {
				error = rejected != null ? rejected : onTimeout.get();
			}
			catch (Throwable t) {
				error = t;
			}
			actual.onError(error);
		}
	}
}
