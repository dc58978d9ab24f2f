package io.tether.context.internal;

import io.r2dbc.spi.Result;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.util.concurrent.Queues;
import reactor.util.context.Context;

/**
 * Subscribes to a driver publisher on behalf of a {@link Lease}. Passes the downstream's demand through
 * until the lease is contended; from then on requests everything and buffers, so the driver finishes and
 * the lease can move on, while the downstream still receives items at its own pace.
 *
 * <p>A cancel from the downstream is not passed to the driver: the driver is already answering (the
 * statement is on the wire), and a driver that cancels its side may leave the protocol waiting for a
 * consumer that never comes (r2dbc-postgresql drops results that arrive after a cancel unconsumed, and
 * its next command then waits behind them). Instead the publisher is drained to its end, every result it
 * produces is consumed and discarded, and only then is the lease dropped, so the next operation finds the
 * protocol free. A drain still running after the {@link CleanupBound}'s drain budget asks the server to
 * cancel the statement (see {@link ServerCancel}), if the driver can, the connection is outside a transaction
 * and nobody listens to the statement any more (its execution and every consumption of its results were
 * cancelled); the lease is kept until that request has been taken by the server, so that it cannot reach the
 * next statement, and the server's "canceling statement" error that ends the remainder is swallowed. The drain
 * is bounded by the {@link CleanupBound}: if it does not finish in time, the
 * driver is cancelled after all, the gate is {@linkplain StatementGate#poison() poisoned} (the scope's
 * release then destroys the connection) and the lease is dropped. An operation cancelled before its turn
 * came drops its lease at once: nothing was sent.
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

	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<GatedSubscriber> HOLDS =
			AtomicIntegerFieldUpdater.newUpdater(GatedSubscriber.class, "holds");
	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<GatedSubscriber> DISCARDING =
			AtomicIntegerFieldUpdater.newUpdater(GatedSubscriber.class, "discarding");
	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<GatedSubscriber> SUBSCRIBE =
			AtomicIntegerFieldUpdater.newUpdater(GatedSubscriber.class, "subscribe");
	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<GatedSubscriber> LISTENING =
			AtomicIntegerFieldUpdater.newUpdater(GatedSubscriber.class, "listening");

	private static final int NOT_SUBSCRIBED = 0;
	private static final int SUBSCRIBING = 1;
	private static final int CANCELLED_UNSENT = 2;

	/** What a drained row maps to instead of the application's value; dropped here, never seen downstream. */
	static final Object DRAINED = new Object();

	private final CoreSubscriber<? super T> actual;
	private final boolean wrapResults;
	private final CleanupBound bound;
	private final @Nullable AtomicBoolean mappingStopped;
	// Created only when an item cannot be handed over at once (draining, or a concurrent drain loop).
	private volatile @Nullable Queue<T> queue;
	private @Nullable Lease lease;
	private @Nullable StatementGate straggling;

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
	// What keeps the lease after a cancel: the driver publisher (1) until it terminates, plus one per result drain.
	private volatile int holds = 1;
	private volatile int discarding;
	// NOT_SUBSCRIBED until the driver publisher is subscribed (SUBSCRIBING), or a cancel came first (CANCELLED_UNSENT).
	private volatile int subscribe;
	// 1 until the downstream cancels or is terminated; counted in the lease (see Lease#isAbandonedExecution).
	private volatile int listening = 1;
	// Results handed downstream, so that a cancel can drain those the downstream never consumed.
	private volatile @Nullable GatedResult emitted;
	private volatile @Nullable Queue<GatedResult> moreEmitted;
	private volatile Disposable.@Nullable Composite drains;
	private volatile Disposable drainTimer = Disposables.disposed();
	// the drain's deadline on the bound's timer, and how long until the cancel request is sent again
	private volatile long drainDeadline;
	private volatile long cancelIntervalNanos;
	// this subscriber sent the statement's cancel request; one is on its way to the server
	private volatile boolean cancelSender;
	private volatile boolean cancelInFlight;

	GatedSubscriber(CoreSubscriber<? super T> actual, boolean wrapResults, CleanupBound bound,
			@Nullable AtomicBoolean draining) {
		this.actual = actual;
		this.wrapResults = wrapResults;
		this.bound = bound;
		this.mappingStopped = draining;
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

	/**
	 * Called just before the driver publisher is subscribed with this subscriber; false if a cancel came
	 * first (nothing is sent then). From here on a cancel drains: the statement may already be on the wire
	 * before the driver's {@code onSubscribe} arrives, so the lease is kept until that drain has ended.
	 */
	boolean startSubscribing() {
		return SUBSCRIBE.compareAndSet(this, NOT_SUBSCRIBED, SUBSCRIBING);
	}

	/** Runs outside any lease; tells {@code gate} when it has ended, so that a release can wait for it. */
	void straggling(StatementGate gate) {
		this.straggling = gate;
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
			// Granted while being cancelled: the statement is on its way, so drain rather than cancel it.
			discard();
			return;
		}
		drainUpstream();
	}

	@Override
	public void onNext(T t) {
		if (done || cancelled) {
			discardItem(t);
			return;
		}
		T v = wrapResults ? wrapResult(t) : t;
		if (v instanceof GatedResult r) {
			// Recorded before it is handed on; a cancel that the check below misses finds it recorded.
			record(r);
			if (cancelled) {
				drainIfUnclaimed(r);
				return;
			}
		}
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
			dropError(t);
			return;
		}
		if (cancelled) {
			dropError(t);
		}
		error = t;
		done = true;
		endHold();
		drain();
	}

	@Override
	public void onComplete() {
		if (done) {
			return;
		}
		done = true;
		endHold();
		drain();
	}

	/** The lease is dropped when the driver publisher and every drain of its results have ended. */
	private void endHold() {
		if (HOLDS.decrementAndGet(this) == 0) {
			drainTimer.dispose();
			releaseLease();
		}
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
		stopListening();
		if (SUBSCRIBE.compareAndSet(this, NOT_SUBSCRIBED, CANCELLED_UNSENT)) {
			// Not granted yet: nothing was sent, and the grant will not subscribe the driver.
			releaseLease();
		}
		else if (upstream != null) {
			discard();
		}
		// Otherwise the driver publisher is being subscribed (the statement may be on its way) and its
		// onSubscribe has not come yet: it sees the cancel and drains, and the lease is kept until then.
		if (WIP.getAndIncrement(this) == 0) {
			clear();
		}
	}

	/** After a cancel: take everything the driver still sends, consume its results, within the bound. */
	private void discard() {
		if (!DISCARDING.compareAndSet(this, 0, 1)) {
			return;
		}
		AtomicBoolean mapping = mappingStopped;
		if (mapping != null) {
			mapping.set(true);
		}
		if (!done) {
			Lease l = lease;
			if (l != null && bound.drainBudget().compareTo(bound.timeout()) < 0 && l.gate().serverCancel().isSupported()) {
				drainDeadline = bound.timer().now(TimeUnit.NANOSECONDS) + bound.timeout().toNanos();
				schedule(this::drainBudgetSpent, bound.drainBudget());
			}
			else {
				schedule(this::drainTimedOut, bound.timeout());
			}
		}
		GatedResult r = emitted;
		if (r != null) {
			drainIfUnclaimed(r);
		}
		Queue<GatedResult> more = moreEmitted;
		if (more != null) {
			for (GatedResult m : more) {
				drainIfUnclaimed(m);
			}
		}
		requestUpstream(Long.MAX_VALUE);
	}

	private void schedule(Runnable task, Duration delay) {
		try {
			drainTimer = bound.timer().schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (RuntimeException rejected) {
			Operators.onErrorDropped(rejected, actual.currentContext());
		}
	}

	/** The drain outlasted its budget: ask the server to cancel the statement, then wait out the rest of the bound. */
	private void drainBudgetSpent() {
		if (leaseHeld == 0) {
			return;
		}
		Lease l = lease;
		if (l != null && l.isAbandonedExecution()) {
			Publisher<?> request = l.gate().serverCancel().request();
			// The driver may have none, the connection may be in a transaction, or another drain of this
			// statement asked.
			if (request != null && l.markCancelRequested()) {
				cancelSender = true;
				sendServerCancel(request);
			}
		}
		scheduleNextCheck(Math.max(2 * bound.drainBudget().toNanos(), TimeUnit.MILLISECONDS.toNanos(1)));
	}

	/**
	 * PostgreSQL cancels only the statement its backend is executing when the request arrives: a request that
	 * overtakes the statement (still in the socket, being parsed) is lost, and the statement then runs to its
	 * end. So while the drain goes on, the request is sent again, at growing intervals, until the drain ends or
	 * the bound gives up on the connection.
	 */
	private void scheduleNextCheck(long intervalNanos) {
		long left = drainDeadline - bound.timer().now(TimeUnit.NANOSECONDS);
		if (!cancelSender || left <= intervalNanos) {
			schedule(this::drainTimedOut, Duration.ofNanos(Math.max(left, 0)));
		}
		else {
			cancelIntervalNanos = intervalNanos;
			schedule(this::cancelAgain, Duration.ofNanos(intervalNanos));
		}
		if (leaseHeld == 0) {
			drainTimer.dispose();
		}
	}

	private void cancelAgain() {
		if (leaseHeld == 0) {
			return;
		}
		Lease l = lease;
		if (l != null && !cancelInFlight) {
			Publisher<?> request = l.gate().serverCancel().request();
			if (request != null) {
				sendServerCancel(request);
			}
		}
		scheduleNextCheck(Math.min(2 * cancelIntervalNanos, TimeUnit.SECONDS.toNanos(1)));
	}

	private void sendServerCancel(Publisher<?> request) {
		// Held until the server has taken the request: a cancel that arrived after the next statement was sent
		// would cancel that one instead.
		for (;;) {
			int h = holds;
			if (h == 0 || leaseHeld == 0) {
				return;
			}
			if (HOLDS.compareAndSet(this, h, h + 1)) {
				break;
			}
		}
		cancelInFlight = true;
		// Keeps the lease until the server has taken the request; errors are dropped.
		DroppingSubscriber.run(request, actual.currentContext(), () -> {
			cancelInFlight = false;
			endHold();
		});
	}

	/** Drops an error nobody listens to, unless it is the server's answer to the cancel this drain asked for. */
	private void dropError(Throwable t) {
		Lease l = lease;
		if (l == null || !l.isCancelRequested() || !ServerCancel.isCancellation(t)) {
			Operators.onErrorDropped(t, actual.currentContext());
		}
	}

	private void stopListening() {
		Lease l = lease;
		if (LISTENING.compareAndSet(this, 1, 0) && l != null) {
			l.stopListening();
		}
	}

	/** Whether this subscriber receives the results of a statement's execution (rather than a command's completion). */
	boolean wrapsResults() {
		return wrapResults;
	}

	private void drainTimedOut() {
		if (leaseHeld == 0) {
			return;
		}
		// The driver did not finish within the bound: the connection's protocol state is now unknown.
		Lease l = lease;
		if (l != null) {
			l.gate().poison();
		}
		Subscription s = upstream;
		if (s != null) {
			s.cancel();
		}
		Disposable.Composite d = drains;
		if (d != null) {
			d.dispose();
		}
		releaseLease();
	}

	private void record(GatedResult r) {
		if (emitted == null) {
			emitted = r;
			return;
		}
		Queue<GatedResult> more = moreEmitted;
		if (more == null) {
			synchronized (this) {
				more = moreEmitted;
				if (more == null) {
					more = new ConcurrentLinkedQueue<>();
					moreEmitted = more;
				}
			}
		}
		more.offer(r);
	}

	private void drainIfUnclaimed(GatedResult r) {
		if (r.claim()) {
			drainResult(r.unwrap());
		}
	}

	private void discardItem(Object item) {
		if (item instanceof GatedResult r) {
			drainIfUnclaimed(r);
		}
		else if (wrapResults && item instanceof Result r) {
			drainResult(r);
		}
		else if (item != DRAINED) {
			Operators.onDiscard(item, actual.currentContext());
		}
	}

	/** Consumes a result nobody will read, so the driver can finish the statement; holds the lease meanwhile. */
	private void drainResult(Result r) {
		if (leaseHeld == 0) {
			// The lease is gone (the driver had finished the operation): drain as a straggler of the gate.
			StatementGate g = gateOrNull();
			if (g != null) {
				g.straggle();
			}
			// Drained outside any lease, then the gate is told; errors are dropped.
			DroppingSubscriber.run(r.map((row, metadata) -> Boolean.TRUE), actual.currentContext(),
					g == null ? () -> { } : g::straggled);
			return;
		}
		HOLDS.incrementAndGet(this);
		Disposable.Composite d = drains;
		if (d == null) {
			synchronized (this) {
				d = drains;
				if (d == null) {
					d = Disposables.composite();
					drains = d;
				}
			}
		}
		ResultDrain drain = new ResultDrain(d);
		Publisher<?> rows;
		try {
			rows = r.map((row, metadata) -> Boolean.TRUE);
		}
		catch (RuntimeException e) {
			Operators.onErrorDropped(e, actual.currentContext());
			endHold();
			return;
		}
		Flux.from(rows).subscribe(drain);
	}

	private void clear() {
		Queue<T> q = queue;
		if (q == null) {
			return;
		}
		T v;
		while ((v = q.poll()) != null) {
			discardItem(v);
		}
	}

	void refuse(Throwable e) {
		if (done) {
			return;
		}
		error = e;
		done = true;
		HOLDS.decrementAndGet(this);
		releaseLease();
		drain();
	}

	/** Reads a cancelled statement's result to its end; its errors are dropped (nobody is listening). */
	private final class ResultDrain implements CoreSubscriber<Object>, Disposable {

		private final Disposable.Composite drains;
		private volatile @Nullable Subscription subscription;
		private volatile boolean ended;

		ResultDrain(Disposable.Composite drains) {
			this.drains = drains;
		}

		@Override
		public Context currentContext() {
			return actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription s) {
			subscription = s;
			if (!drains.add(this)) {
				s.cancel();
				end();
				return;
			}
			s.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(Object o) {
		}

		@Override
		public void onError(Throwable t) {
			dropError(t);
			end();
		}

		@Override
		public void onComplete() {
			end();
		}

		private void end() {
			if (!ended) {
				ended = true;
				drains.remove(this);
				endHold();
			}
		}

		@Override
		public void dispose() {
			Subscription s = subscription;
			if (s != null) {
				s.cancel();
			}
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
		StatementGate g = straggling;
		if ((l != null || g != null) && LEASE_HELD.compareAndSet(this, 1, 0)) {
			if (l != null) {
				l.release();
			}
			else {
				g.straggled();
			}
		}
	}

	private @Nullable StatementGate gateOrNull() {
		Lease l = lease;
		return l != null ? l.gate() : straggling;
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
		stopListening();
		Throwable t = error;
		if (t != null) {
			actual.onError(t);
		}
		else {
			actual.onComplete();
		}
	}
}
