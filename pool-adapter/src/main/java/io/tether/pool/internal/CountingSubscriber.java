package io.tether.pool.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * The part that {@link TrackedStream} and {@link GuardedOperation} share: a subscriber between a pooled
 * connection's driver publisher and its downstream that passes demand and cancel through and records, once,
 * how the publisher ended ({@link #ended(int)} with {@link #COMPLETED}, {@link #FAILED} or
 * {@link #CANCELLED}), before the signal goes downstream.
 */
abstract class CountingSubscriber<T, R> implements CoreSubscriber<T>, Subscription {

	static final int COMPLETED = 1;
	static final int FAILED = 2;
	static final int CANCELLED = 3;

	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<CountingSubscriber> ENDED =
			AtomicIntegerFieldUpdater.newUpdater(CountingSubscriber.class, "end");

	final CoreSubscriber<? super R> actual;
	@Nullable Subscription upstream;
	private volatile int end;

	CountingSubscriber(CoreSubscriber<? super R> actual) {
		this.actual = actual;
	}

	/** How the publisher ended; called once, before the downstream hears of it. */
	abstract void ended(int how);

	@Override
	public final Context currentContext() {
		return actual.currentContext();
	}

	@Override
	public final void onSubscribe(Subscription s) {
		if (Operators.validate(upstream, s)) {
			upstream = s;
			actual.onSubscribe(this);
		}
	}

	final void end(int how) {
		if (ENDED.compareAndSet(this, 0, how)) {
			ended(how);
		}
	}

	@Override
	public void onError(Throwable t) {
		end(FAILED);
		actual.onError(t);
	}

	@Override
	public void onComplete() {
		end(COMPLETED);
		actual.onComplete();
	}

	@Override
	public final void request(long n) {
		upstream.request(n);
	}

	@Override
	public final void cancel() {
		end(CANCELLED);
		upstream.cancel();
	}
}
