package io.tether.context.internal;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.tether.context.ConnectionUnavailableException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;
import reactor.util.Logger;
import reactor.util.Loggers;
import reactor.util.context.Context;

/**
 * Acquires a connection but gives up after a time limit, without cancelling the acquisition: a
 * connection that arrives after the limit is closed at once. ({@code Mono.timeout} would cancel the
 * acquisition, and a factory that does not handle that cancel would lose the connection.) An acquisition
 * that fails after the limit (or after a cancel), such as one still waiting when its pool closes, has no
 * connection to release and nobody to tell: it is logged at DEBUG, not passed to {@code onErrorDropped}.
 */
final class TimedAcquire extends Mono<Connection> {

	private static final Logger LOG = Loggers.getLogger(TimedAcquire.class);

	private final Publisher<? extends Connection> source;
	private final Duration limit;
	private final Scheduler timer;
	private final Function<Throwable, ConnectionUnavailableException> timeoutError;

	TimedAcquire(Publisher<? extends Connection> source, Duration limit, Scheduler timer,
			Function<Throwable, ConnectionUnavailableException> timeoutError) {
		this.source = source;
		this.limit = limit;
		this.timer = timer;
		this.timeoutError = timeoutError;
	}

	@Override
	public void subscribe(CoreSubscriber<? super Connection> actual) {
		Inner inner = new Inner(actual, limit, timeoutError);
		actual.onSubscribe(inner);
		inner.timeout = timer.schedule(inner::onTimeout, limit.toMillis(), TimeUnit.MILLISECONDS);
		source.subscribe(inner);
	}

	private static final class Inner implements CoreSubscriber<Connection>, Subscription {

		private static final int WAITING = 0;
		private static final int DELIVERED = 1;
		private static final int GAVE_UP = 2;

		private static final AtomicIntegerFieldUpdater<Inner> STATE =
				AtomicIntegerFieldUpdater.newUpdater(Inner.class, "state");

		private final CoreSubscriber<? super Connection> actual;
		private final Duration limit;
		private final Function<Throwable, ConnectionUnavailableException> timeoutError;
		volatile int state;
		volatile Disposable timeout = Disposables.never();
		private boolean received;

		Inner(CoreSubscriber<? super Connection> actual, Duration limit,
				Function<Throwable, ConnectionUnavailableException> timeoutError) {
			this.actual = actual;
			this.limit = limit;
			this.timeoutError = timeoutError;
		}

		@Override
		public Context currentContext() {
			return actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription s) {
			s.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(Connection c) {
			if (received) {
				DroppingSubscriber.run(c.close(), actual.currentContext());
				return;
			}
			received = true;
			timeout.dispose();
			if (STATE.compareAndSet(this, WAITING, DELIVERED)) {
				actual.onNext(c);
				actual.onComplete();
			}
			else {
				DroppingSubscriber.run(c.close(), actual.currentContext());
			}
		}

		@Override
		public void onError(Throwable t) {
			timeout.dispose();
			if (received) {
				Operators.onErrorDropped(t, actual.currentContext());
				return;
			}
			received = true;
			if (STATE.compareAndSet(this, WAITING, DELIVERED)) {
				actual.onError(t instanceof TimeoutException || t instanceof R2dbcTimeoutException ? timeoutError.apply(t) : t);
			}
			else {
				// The acquisition we gave up on failed after all, typically because the pool closed while it was still
				// waiting. No connection exists, so nothing is left to release, and the subscriber already has its
				// error (or cancelled): this is an ordinary end, not a lost error, so it does not go to onErrorDropped.
				LOG.debug("An acquisition given up on earlier failed: {}", t.toString());
			}
		}

		@Override
		public void onComplete() {
			if (!received) {
				onError(new IllegalStateException("ConnectionFactory.create() completed without emitting a connection"));
			}
		}

		void onTimeout() {
			if (STATE.compareAndSet(this, WAITING, GAVE_UP)) {
				actual.onError(timeoutError.apply(new TimeoutException(
						"no connection within " + limit.toMillis() + "ms")));
			}
		}

		@Override
		public void request(long n) {
		}

		@Override
		public void cancel() {
			// The acquisition goes on; a connection that still arrives is closed in onNext.
			if (STATE.compareAndSet(this, WAITING, GAVE_UP)) {
				timeout.dispose();
			}
		}
	}
}
