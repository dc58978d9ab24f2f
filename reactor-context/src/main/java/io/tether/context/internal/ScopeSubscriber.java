package io.tether.context.internal;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * The scope operator: acquire a resource, run the body with it in the Context, then release it on
 * complete, error or cancel, exactly once. Differs from {@code usingWhen} where a data layer needs it:
 * <ul>
 *   <li>the acquisition is never cancelled. A cancel during acquisition (or during {@code BEGIN}, which
 *       is part of a transaction's acquisition) lets it finish and then runs the cancel cleanup, so a
 *       connection that arrives late is released rather than lost, whatever the factory does on cancel;</li>
 *   <li>a cancel that arrives while the completion cleanup runs ({@code COMMIT}, then close) does not
 *       interrupt it: the cleanup finishes and the downstream is simply not signalled;</li>
 *   <li>the body's Context is computed once, not by an extra {@code contextWrite} operator.</li>
 * </ul>
 * The downstream is signalled only after the cleanup has finished, so a failed commit is an error.
 */
final class ScopeSubscriber<R, T> implements CoreSubscriber<T>, Subscription {

	private static final int ACQUIRING = 0;
	private static final int ACTIVE = 1;
	private static final int CLEANING = 2;
	private static final int CANCELLED = 3;
	private static final int DONE = 4;
	// The body is being subscribed. A cancel now cancels the body at once, but its cleanup (rollback, close)
	// waits until the body's subscribe() has returned: run concurrently, it could close the connection under
	// a body still starting its first statement.
	private static final int SUBSCRIBING = 5;
	private static final int CANCEL_REQUESTED = 6;

	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<ScopeSubscriber> STATE =
			AtomicIntegerFieldUpdater.newUpdater(ScopeSubscriber.class, "state");
	@SuppressWarnings("rawtypes")
	private static final AtomicReferenceFieldUpdater<ScopeSubscriber, Subscription> BODY =
			AtomicReferenceFieldUpdater.newUpdater(ScopeSubscriber.class, Subscription.class, "bodySubscription");
	@SuppressWarnings("rawtypes")
	private static final AtomicLongFieldUpdater<ScopeSubscriber> BODY_REQUESTED =
			AtomicLongFieldUpdater.newUpdater(ScopeSubscriber.class, "bodyRequested");

	private final CoreSubscriber<? super T> actual;
	private final ScopeSpec<R> spec;
	private final Function<? super R, ? extends Publisher<? extends T>> body;
	private final boolean holdValue;

	private volatile int state;
	// The body's subscription, published before any request to it, so that a cancel arriving while the body
	// runs synchronously inside that request (H2 does) reaches it at once. Reactor's DeferredSubscription
	// would apply such a cancel only after the request returned, that is after the whole body ran.
	private volatile @Nullable Subscription bodySubscription;
	private volatile long bodyRequested;
	private @Nullable T value;
	private volatile boolean downstreamGone;
	private @Nullable R resource;
	private volatile @Nullable Context bodyContext;

	/**
	 * @param holdValue for a body of at most one item: hold the item back until the cleanup succeeded, so
	 *        nobody acts on data of a transaction that then fails to commit, and a downstream that cancels
	 *        after the item (as {@code next()} does) cannot turn a finished body into a rollback
	 */
	ScopeSubscriber(CoreSubscriber<? super T> actual, ScopeSpec<R> spec,
			Function<? super R, ? extends Publisher<? extends T>> body, boolean holdValue) {
		this.actual = actual;
		this.spec = spec;
		this.body = body;
		this.holdValue = holdValue;
	}

	void start() {
		actual.onSubscribe(this);
		if (state == CANCELLED) {
			// Cancelled from within onSubscribe: nothing acquired yet, nothing to acquire.
			return;
		}
		Publisher<? extends R> acquisition;
		try {
			acquisition = spec.acquire(actual.currentContext());
		}
		catch (Throwable t) {
			onAcquireError(t);
			return;
		}
		acquisition.subscribe(new Acquirer());
	}

	@Override
	public Context currentContext() {
		Context c = bodyContext;
		return c != null ? c : actual.currentContext();
	}

	private void onResource(R r) {
		resource = r;
		if (!STATE.compareAndSet(this, ACQUIRING, SUBSCRIBING)) {
			cleanUpAfterCancel(r);
			return;
		}
		Publisher<? extends T> p;
		try {
			bodyContext = spec.bind(actual.currentContext(), r);
			p = Objects.requireNonNull(body.apply(r), "The scope's body function returned a null Publisher");
		}
		catch (Throwable t) {
			onError(t);
			return;
		}
		p.subscribe(this);
		if (!STATE.compareAndSet(this, SUBSCRIBING, ACTIVE)
				&& STATE.compareAndSet(this, CANCEL_REQUESTED, CANCELLED)) {
			cleanUpAfterCancel(r);
		}
	}

	/** Releases after a cancel, in the background: nobody waits for it, errors go to onErrorDropped. */
	private void cleanUpAfterCancel(R r) {
		DroppingSubscriber.run(spec.onCancel(r), actual.currentContext());
	}

	/** ACTIVE or SUBSCRIBING to CLEANING; a cancel requested during SUBSCRIBING wins and is carried out here. */
	private boolean startCleaning(R r) {
		for (;;) {
			int s = state;
			if (s == ACTIVE || s == SUBSCRIBING) {
				if (STATE.compareAndSet(this, s, CLEANING)) {
					return true;
				}
			}
			else if (s == CANCEL_REQUESTED) {
				if (STATE.compareAndSet(this, CANCEL_REQUESTED, CANCELLED)) {
					cleanUpAfterCancel(r);
					return false;
				}
			}
			else {
				return false;
			}
		}
	}

	private void onAcquireError(Throwable t) {
		if (STATE.compareAndSet(this, ACQUIRING, DONE)) {
			actual.onError(t);
		}
		else {
			Operators.onErrorDropped(t, actual.currentContext());
		}
	}

	@Override
	public void onSubscribe(Subscription s) {
		if (!BODY.compareAndSet(this, null, s)) {
			s.cancel();
			return;
		}
		long r = BODY_REQUESTED.getAndSet(this, 0L);
		if (r != 0L) {
			s.request(r);
		}
	}

	@Override
	public void request(long n) {
		if (!Operators.validate(n)) {
			return;
		}
		Subscription s = bodySubscription;
		if (s == null) {
			Operators.addCap(BODY_REQUESTED, this, n);
			s = bodySubscription;
			if (s == null) {
				return;
			}
			n = BODY_REQUESTED.getAndSet(this, 0L);
			if (n == 0L) {
				return;
			}
		}
		if (s != Operators.cancelledSubscription()) {
			s.request(n);
		}
	}

	private void cancelBody() {
		Subscription s = BODY.getAndSet(this, Operators.cancelledSubscription());
		if (s != null && s != Operators.cancelledSubscription()) {
			s.cancel();
		}
	}

	@Override
	public void onNext(T t) {
		if (holdValue) {
			// The body only emits on demand, so the downstream has asked for this item already.
			value = t;
		}
		else {
			actual.onNext(t);
		}
	}

	@Override
	public void onError(Throwable t) {
		R r = resource;
		if (r != null && startCleaning(r)) {
			Publisher<Void> cleanup;
			try {
				cleanup = spec.onError(r, t);
			}
			catch (Throwable e) {
				t.addSuppressed(e);
				finish(t);
				return;
			}
			cleanup.subscribe(new Cleaner(t));
		}
		else {
			Operators.onErrorDropped(t, actual.currentContext());
		}
	}

	@Override
	public void onComplete() {
		R r = resource;
		if (r != null && startCleaning(r)) {
			Publisher<Void> cleanup;
			try {
				cleanup = spec.onComplete(r);
			}
			catch (Throwable e) {
				finish(e);
				return;
			}
			cleanup.subscribe(new Cleaner(null));
		}
	}

	@Override
	public void cancel() {
		for (;;) {
			int s = state;
			if (s == ACQUIRING) {
				if (STATE.compareAndSet(this, ACQUIRING, CANCELLED)) {
					// The Acquirer releases the resource when it arrives.
					return;
				}
			}
			else if (s == SUBSCRIBING) {
				if (STATE.compareAndSet(this, SUBSCRIBING, CANCEL_REQUESTED)) {
					// onResource runs the cleanup when the body's subscribe() returns.
					cancelBody();
					return;
				}
			}
			else if (s == CANCEL_REQUESTED) {
				return;
			}
			else if (s == ACTIVE) {
				if (STATE.compareAndSet(this, ACTIVE, CANCELLED)) {
					cancelBody();
					R r = resource;
					if (r != null) {
						cleanUpAfterCancel(r);
					}
					return;
				}
			}
			else {
				// CLEANING: let the cleanup finish, just stop signalling. CANCELLED/DONE: nothing left. The body
				// is not cancelled: it has terminated (CLEANING starts at its onComplete or onError), and a cancel
				// would still run its operators' cancel hooks, such as a joined scope's rollback-only mark.
				downstreamGone = true;
				return;
			}
		}
	}

	private void finish(@Nullable Throwable error) {
		state = DONE;
		T v = value;
		value = null;
		if (downstreamGone) {
			if (v != null) {
				Operators.onDiscard(v, actual.currentContext());
			}
			if (error != null) {
				Operators.onErrorDropped(error, actual.currentContext());
			}
			return;
		}
		if (error != null) {
			if (v != null) {
				Operators.onDiscard(v, actual.currentContext());
			}
			actual.onError(error);
		}
		else {
			if (v != null) {
				actual.onNext(v);
			}
			actual.onComplete();
		}
	}

	private final class Acquirer implements CoreSubscriber<R> {

		private boolean received;

		@Override
		public Context currentContext() {
			return actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription s) {
			s.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(R r) {
			if (received) {
				Operators.onNextDropped(r, actual.currentContext());
				return;
			}
			received = true;
			onResource(r);
		}

		@Override
		public void onError(Throwable t) {
			if (received) {
				Operators.onErrorDropped(t, actual.currentContext());
				return;
			}
			received = true;
			onAcquireError(t);
		}

		@Override
		public void onComplete() {
			if (!received) {
				received = true;
				onAcquireError(new IllegalStateException("The scope's acquisition completed without a connection"));
			}
		}
	}

	private final class Cleaner implements CoreSubscriber<Void> {

		private final @Nullable Throwable bodyError;

		Cleaner(@Nullable Throwable bodyError) {
			this.bodyError = bodyError;
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
		public void onNext(Void v) {
		}

		@Override
		public void onError(Throwable t) {
			Throwable b = bodyError;
			if (b != null) {
				if (b != t) {
					b.addSuppressed(t);
				}
				finish(b);
			}
			else {
				finish(t);
			}
		}

		@Override
		public void onComplete() {
			finish(bodyError);
		}
	}
}
