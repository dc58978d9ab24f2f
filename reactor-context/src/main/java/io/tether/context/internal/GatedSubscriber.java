package io.tether.context.internal;

import java.util.Queue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import io.r2dbc.spi.Result;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.util.concurrent.Queues;
import reactor.util.context.Context;

/**
 * Subscribes to a driver publisher on behalf of a {@link Lease}. Passes the downstream's demand through
 * until the lease is contended; from then on requests everything and buffers, so the driver finishes and
 * the lease can move on, while the downstream still receives items at its own pace. The lease reference
 * is dropped when the driver publisher terminates or the downstream cancels, whichever comes first.
 */
final class GatedSubscriber<T> implements CoreSubscriber<T>, Subscription {

	// Field updaters cannot be generic; the raw type is the only way to declare them.

	@SuppressWarnings("rawtypes")
	private static final AtomicLongFieldUpdater<GatedSubscriber> REQUESTED =
			AtomicLongFieldUpdater.newUpdater(GatedSubscriber.class, "requested");
	@SuppressWarnings("rawtypes")
	private static final AtomicLongFieldUpdater<GatedSubscriber> UPSTREAM_PENDING =
			AtomicLongFieldUpdater.newUpdater(GatedSubscriber.class, "upstreamPending");
	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<GatedSubscriber> UPSTREAM_WIP =
			AtomicIntegerFieldUpdater.newUpdater(GatedSubscriber.class, "upstreamWip");
	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<GatedSubscriber> WIP =
			AtomicIntegerFieldUpdater.newUpdater(GatedSubscriber.class, "wip");
	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<GatedSubscriber> DRAINING =
			AtomicIntegerFieldUpdater.newUpdater(GatedSubscriber.class, "draining");
	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<GatedSubscriber> LEASE_HELD =
			AtomicIntegerFieldUpdater.newUpdater(GatedSubscriber.class, "leaseHeld");

	private final CoreSubscriber<? super T> actual;
	private final boolean wrapResults;
	// Created only when an item cannot be handed over at once (draining, or a concurrent drain loop).
	private volatile @Nullable Queue<T> queue;
	private @Nullable Lease lease;

	private volatile @Nullable Subscription upstream;
	private volatile long requested;
	private volatile long upstreamPending;
	private volatile int upstreamWip;
	private volatile int wip;
	private volatile int draining;
	private volatile int leaseHeld = 1;
	private volatile boolean done;
	private @Nullable Throwable error;
	private volatile boolean cancelled;

	GatedSubscriber(CoreSubscriber<? super T> actual, boolean wrapResults) {
		this.actual = actual;
		this.wrapResults = wrapResults;
	}

	private Queue<T> queue() {
		Queue<T> q = queue;
		if (q == null) {
			q = Queues.<T>unbounded(Queues.XS_BUFFER_SIZE).get();
			queue = q;
		}
		return q;
	}

	void lease(Lease lease) {
		this.lease = lease;
	}

	@Override
	public Context currentContext() {
		return actual.currentContext();
	}

	@Override
	public void onSubscribe(Subscription s) {
		if (upstream != null) {
			s.cancel();
			return;
		}
		upstream = s;
		if (cancelled) {
			s.cancel();
			return;
		}
		drainUpstream();
	}

	@Override
	public void onNext(T t) {
		if (done || cancelled) {
			Operators.onDiscard(t, actual.currentContext());
			return;
		}
		T v = wrapResults ? wrapResult(t) : t;
		// Fast path: nothing buffered, nobody draining, demand available: hand the item over directly.
		// The upstream only emits what was requested unless we are draining, so this is the usual case.
		if (WIP.compareAndSet(this, 0, 1)) {
			Queue<T> q = queue;
			long r = requested;
			if ((q == null || q.isEmpty()) && r != 0L) {
				actual.onNext(v);
				if (r != Long.MAX_VALUE) {
					REQUESTED.decrementAndGet(this);
				}
				if (WIP.decrementAndGet(this) == 0) {
					return;
				}
			}
			else {
				queue().offer(v);
			}
			drainLoop();
			return;
		}
		queue().offer(v);
		drain();
	}

	@Override
	public void onError(Throwable t) {
		if (done) {
			Operators.onErrorDropped(t, actual.currentContext());
			return;
		}
		error = t;
		done = true;
		releaseLease();
		drain();
	}

	@Override
	public void onComplete() {
		if (done) {
			return;
		}
		done = true;
		releaseLease();
		drain();
	}

	@Override
	public void request(long n) {
		if (!Operators.validate(n)) {
			return;
		}
		Operators.addCap(REQUESTED, this, n);
		if (draining == 0) {
			requestUpstream(n);
		}
		drain();
	}

	@Override
	public void cancel() {
		if (cancelled) {
			return;
		}
		cancelled = true;
		Subscription s = upstream;
		if (s != null) {
			s.cancel();
		}
		releaseLease();
		if (WIP.getAndIncrement(this) == 0) {
			clear();
		}
	}

	private void clear() {
		Queue<T> q = queue;
		if (q != null) {
			Operators.onDiscardQueueWithClear(q, actual.currentContext(), null);
		}
	}

	/** Switches to draining: take everything the driver has, so the connection frees up. */
	void contend() {
		if (DRAINING.compareAndSet(this, 0, 1)) {
			requestUpstream(Long.MAX_VALUE);
		}
	}

	@SuppressWarnings("unchecked")
	private T wrapResult(T t) {
		Lease l = lease;
		if (l == null || !(t instanceof Result)) {
			return t;
		}
		return (T) new GatedResult((Result) t, l.gate(), l);
	}

	private void releaseLease() {
		Lease l = lease;
		if (l != null && LEASE_HELD.compareAndSet(this, 1, 0)) {
			l.release();
		}
	}

	private void requestUpstream(long n) {
		Operators.addCap(UPSTREAM_PENDING, this, n);
		drainUpstream();
	}

	// Serializes calls to upstream.request(), which may come from the downstream and from the gate.
	private void drainUpstream() {
		if (UPSTREAM_WIP.getAndIncrement(this) != 0) {
			return;
		}
		int missed = 1;
		for (;;) {
			Subscription s = upstream;
			if (s != null) {
				long r = UPSTREAM_PENDING.getAndSet(this, 0L);
				if (r > 0) {
					s.request(r);
				}
			}
			missed = UPSTREAM_WIP.addAndGet(this, -missed);
			if (missed == 0) {
				return;
			}
		}
	}

	private void drain() {
		if (WIP.getAndIncrement(this) != 0) {
			return;
		}
		drainLoop();
	}

	/** Emits buffered items within the demand; the caller owns WIP (it moved it from 0). */
	private void drainLoop() {
		int missed = 1;
		for (;;) {
			long r = requested;
			long e = 0L;
			Queue<T> q = queue;
			while (e != r) {
				if (cancelled) {
					clear();
					return;
				}
				boolean d = done;
				q = queue;
				T v = q == null ? null : q.poll();
				if (v == null) {
					if (d) {
						terminate();
						return;
					}
					break;
				}
				actual.onNext(v);
				e++;
			}
			if (e == r) {
				if (cancelled) {
					clear();
					return;
				}
				q = queue;
				if (done && (q == null || q.isEmpty())) {
					terminate();
					return;
				}
			}
			if (e != 0L && r != Long.MAX_VALUE) {
				REQUESTED.addAndGet(this, -e);
			}
			missed = WIP.addAndGet(this, -missed);
			if (missed == 0) {
				return;
			}
		}
	}

	private void terminate() {
		// The drain loop is exclusive and returns for good after this: WIP is never decremented again.
		cancelled = true;
		Throwable t = error;
		if (t != null) {
			actual.onError(t);
		}
		else {
			actual.onComplete();
		}
	}
}
