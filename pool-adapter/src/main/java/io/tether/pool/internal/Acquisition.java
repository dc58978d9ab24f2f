package io.tether.pool.internal;

import io.r2dbc.spi.Connection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.pool.PooledRef;
import reactor.util.context.Context;

/**
 * One acquisition from the pool: borrow a connection from reactor-pool, validate it if the settings ask
 * for it (destroying it and borrowing again on failure), and hand it out wrapped in a
 * {@link PooledConnection}, all within the acquire timeout.
 *
 * <p>Three ways end an acquisition early: a timeout, a cancel by the subscriber, and the pool closing.
 * Each wins only against a connection that has not been handed out yet (a single state transition
 * decides), and whoever ends it takes care of the borrowed connection exactly once: a connection that
 * was being validated is destroyed (its state is unknown), any other is released back to the pool.
 * reactor-pool's own acquire timeout is not used because it stops counting once an allocation starts;
 * this one covers opening and validation too.
 */
final class Acquisition extends Mono<Connection> {

	private final PoolEngine engine;

	Acquisition(PoolEngine engine) {
		this.engine = engine;
	}

	@Override
	public void subscribe(CoreSubscriber<? super Connection> actual) {
		Run run = new Run(engine, actual);
		actual.onSubscribe(run);
		run.start();
	}

	static final class Run implements Subscription {

		private static final int WAITING = 0;
		private static final int DELIVERED = 1;
		private static final int GAVE_UP = 2;

		private final PoolEngine engine;
		private final CoreSubscriber<? super Connection> actual;
		private final AtomicInteger state = new AtomicInteger();
		final long startedAt;
		private final @Nullable Throwable acquiredStack;
		private volatile Disposable timer = Disposables.disposed();
		private volatile @Nullable Subscription borrowing;
		private volatile @Nullable Attempt attempt;

		Run(PoolEngine engine, CoreSubscriber<? super Connection> actual) {
			this.engine = engine;
			this.actual = actual;
			this.startedAt = engine.now();
			this.acquiredStack = engine.captureAcquireStack();
		}

		void start() {
			if (!engine.register(this)) {
				if (state.compareAndSet(WAITING, GAVE_UP)) {
					actual.onError(engine.closedError());
				}
				return;
			}
			if (state.get() != WAITING) {
				// Cancelled from within onSubscribe, before it was registered.
				engine.unregister(this);
				return;
			}
			borrow();
			// Most checkouts find an idle connection and are handed it within borrow(): they need no timer.
			// Only one that has to wait (for a release, a new connection or a validation) arms it, so the
			// common path schedules nothing on the timer scheduler. Arming after the attempt measures the
			// timeout from a few microseconds later than the subscription, which the timeout does not need.
			if (state.get() == WAITING) {
				armTimer();
			}
		}

		private void armTimer() {
			long timeoutNanos = engine.acquireTimeoutNanos();
			if (timeoutNanos > 0) {
				Disposable t = engine.scheduler().schedule(this::timeout, timeoutNanos, TimeUnit.NANOSECONDS);
				timer = t;
				if (state.get() != WAITING) {
					t.dispose();
				}
			}
		}

		private void borrow() {
			if (state.get() == WAITING) {
				engine.borrow().subscribe(new Borrower());
			}
		}

		private void onBorrowed(PooledRef<PhysicalConnection> ref) {
			Attempt a = new Attempt(ref);
			attempt = a;
			if (state.get() != WAITING) {
				if (a.settle()) {
					engine.releaseDetached(ref);
				}
				return;
			}
			Publisher<Boolean> validation = engine.validationFor(ref.poolable());
			if (validation == null) {
				deliver(a);
				return;
			}
			a.validating = true;
			validation.subscribe(new Validator(a));
			if (state.get() != WAITING && a.settle()) {
				a.cancelValidation();
				engine.invalidateDetached(ref, "broken");
			}
		}

		private void deliver(Attempt a) {
			if (!a.settle()) {
				return;
			}
			if (state.compareAndSet(WAITING, DELIVERED)) {
				timer.dispose();
				PooledConnection connection = engine.checkout(a.ref, startedAt, acquiredStack);
				engine.unregister(this);
				actual.onNext(connection);
				actual.onComplete();
			}
			else {
				engine.releaseDetached(a.ref);
			}
		}

		private void validationFailed(Attempt a, Throwable error) {
			if (!a.settle()) {
				return;
			}
			engine.validationFailed(a.ref, error);
			borrow();
		}

		private void borrowFailed(Throwable error) {
			if (state.compareAndSet(WAITING, GAVE_UP)) {
				timer.dispose();
				engine.unregister(this);
				actual.onError(engine.translateAcquireError(error, startedAt));
			}
			else {
				Operators.onErrorDropped(error, actual.currentContext());
			}
		}

		void timeout() {
			giveUp(() -> engine.timeoutError(startedAt));
		}

		/** Fails the acquisition because the pool is closing; no effect once it was handed out. */
		void closed() {
			giveUp(engine::closedError);
		}

		@Override
		public void cancel() {
			giveUp(null);
		}

		@Override
		public void request(long n) {
		}

		private void giveUp(java.util.function.@Nullable Supplier<? extends Throwable> error) {
			if (!state.compareAndSet(WAITING, GAVE_UP)) {
				return;
			}
			timer.dispose();
			// The error is built before the borrower is cancelled, so its pool state still counts this one as pending.
			Throwable e = error == null ? null : error.get();
			Subscription s = borrowing;
			if (s != null) {
				s.cancel();
			}
			Attempt a = attempt;
			if (a != null && a.settle()) {
				if (a.validating) {
					a.cancelValidation();
					engine.invalidateDetached(a.ref, "broken");
				}
				else {
					engine.releaseDetached(a.ref);
				}
			}
			engine.unregister(this);
			if (e != null) {
				actual.onError(e);
			}
		}

		private final class Borrower implements CoreSubscriber<PooledRef<PhysicalConnection>> {

			private boolean received;

			@Override
			public Context currentContext() {
				return actual.currentContext();
			}

			@Override
			public void onSubscribe(Subscription s) {
				borrowing = s;
				if (state.get() != WAITING) {
					s.cancel();
				}
				else {
					s.request(1);
				}
			}

			@Override
			public void onNext(PooledRef<PhysicalConnection> ref) {
				received = true;
				onBorrowed(ref);
			}

			@Override
			public void onError(Throwable t) {
				if (received) {
					Operators.onErrorDropped(t, actual.currentContext());
					return;
				}
				borrowFailed(t);
			}

			@Override
			public void onComplete() {
			}
		}

		/** One borrowed connection; {@link #settle()} picks the single party that decides its fate. */
		private static final class Attempt {

			final PooledRef<PhysicalConnection> ref;
			final AtomicBoolean settled = new AtomicBoolean();
			volatile boolean validating;
			volatile @Nullable Subscription validation;

			Attempt(PooledRef<PhysicalConnection> ref) {
				this.ref = ref;
			}

			boolean settle() {
				return settled.compareAndSet(false, true);
			}

			void cancelValidation() {
				Subscription s = validation;
				if (s != null) {
					s.cancel();
				}
			}
		}

		private final class Validator implements CoreSubscriber<Boolean> {

			private final Attempt attempt;
			private boolean done;

			Validator(Attempt attempt) {
				this.attempt = attempt;
			}

			@Override
			public Context currentContext() {
				return actual.currentContext();
			}

			@Override
			public void onSubscribe(Subscription s) {
				attempt.validation = s;
				if (attempt.settled.get()) {
					s.cancel();
				}
				else {
					s.request(Long.MAX_VALUE);
				}
			}

			@Override
			public void onNext(Boolean valid) {
				if (done) {
					return;
				}
				done = true;
				if (valid) {
					engine.validated(attempt.ref.poolable());
					deliver(attempt);
				}
				else {
					validationFailed(attempt, new IllegalStateException("Validation of "
							+ attempt.ref.poolable() + " returned false"));
				}
			}

			@Override
			public void onError(Throwable t) {
				if (done) {
					return;
				}
				done = true;
				validationFailed(attempt, t);
			}

			@Override
			public void onComplete() {
				if (!done) {
					done = true;
					validationFailed(attempt, new IllegalStateException("Validation of " + attempt.ref.poolable()
							+ " completed without a result"));
				}
			}
		}
	}
}
