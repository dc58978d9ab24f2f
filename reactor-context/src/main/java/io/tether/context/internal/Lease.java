package io.tether.context.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;

/**
 * One operation's exclusive hold on a connection (see {@link StatementGate}). Reference counted: the
 * operation's own publisher holds one reference, every result consumption started while the lease is
 * still held takes another, and the lease leaves the gate when the count drops to zero.
 */
final class Lease {

	private static final AtomicIntegerFieldUpdater<Lease> REFS =
			AtomicIntegerFieldUpdater.newUpdater(Lease.class, "refs");
	private static final AtomicIntegerFieldUpdater<Lease> LISTENING =
			AtomicIntegerFieldUpdater.newUpdater(Lease.class, "listening");
	private static final AtomicIntegerFieldUpdater<Lease> CANCEL_REQUESTED =
			AtomicIntegerFieldUpdater.newUpdater(Lease.class, "cancelRequested");
	@SuppressWarnings("rawtypes")
	private static final AtomicReferenceFieldUpdater<Lease, GatedSubscriber> CONSUMER =
			AtomicReferenceFieldUpdater.newUpdater(Lease.class, GatedSubscriber.class, "consumer");

	private final StatementGate gate;
	private final Publisher<?> source;
	private final GatedSubscriber<?> first;
	private volatile int refs = 1;
	// The operation's subscriber and every consumption of its results whose downstream has neither cancelled
	// nor been terminated: at zero nobody waits for the statement any more, and the server may cancel it.
	private volatile int listening = 1;
	private volatile int cancelRequested;
	private volatile boolean contended;
	// Most statements have exactly one result consumption: it is registered without a lock or a list.
	private volatile @Nullable GatedSubscriber<?> consumer;
	// guarded by this
	private @Nullable List<GatedSubscriber<?>> moreConsumers;

	Lease(StatementGate gate, Publisher<?> source, GatedSubscriber<?> first) {
		this.gate = gate;
		this.source = source;
		this.first = first;
	}

	StatementGate gate() {
		return gate;
	}

	/** Takes a reference for a result consumption; false once the lease has been released. */
	boolean retain() {
		for (;;) {
			int r = refs;
			if (r == 0) {
				return false;
			}
			if (REFS.compareAndSet(this, r, r + 1)) {
				return true;
			}
		}
	}

	/**
	 * A consumption of one of the results is being subscribed: counted before it claims its result, so that
	 * a consumption that owns a result is always counted until it stops (see {@link #stopListening()}).
	 */
	void listen() {
		LISTENING.incrementAndGet(this);
	}

	/** The operation's subscriber or one of its consumptions has been cancelled or terminated downstream. */
	void stopListening() {
		LISTENING.decrementAndGet(this);
	}

	/**
	 * Whether this is a statement's execution that nobody waits for any more: its subscriber and every
	 * consumption of its results were cancelled (or terminated), so what remains of it is only drained.
	 */
	boolean isAbandonedExecution() {
		return listening <= 0 && first.wrapsResults();
	}

	/** True for the first caller: the one that asks the server to cancel this statement. */
	boolean markCancelRequested() {
		return CANCEL_REQUESTED.compareAndSet(this, 0, 1);
	}

	/** Whether the server was asked to cancel this statement: its "canceling statement" error is expected. */
	boolean isCancelRequested() {
		return cancelRequested != 0;
	}

	/** Whether every reference has been dropped: the operation is over, or was cancelled before its turn. */
	boolean isReleased() {
		return refs == 0;
	}

	void release() {
		if (REFS.decrementAndGet(this) == 0) {
			gate.leave(this);
		}
	}

	@SuppressWarnings({"unchecked", "rawtypes"})
	void grant() {
		// A lease released after it entered the gate has already handed the gate on through leave(); one
		// released before entering is refused by StatementGate.enter. Either way there is nothing to do. An
		// operation cancelled from now on is drained, not dropped: its statement may be on its way.
		if (refs > 0 && first.startSubscribing()) {
			((Publisher) source).subscribe(first);
		}
	}

	/** The gate is closed (its scope released the connection): the operation fails instead of running. */
	void refuse() {
		first.refuse(new IllegalStateException("The connection of this scope has already been released: an operation "
				+ "was subscribed after the scope that bound the connection terminated. Subscribe statements inside the "
				+ "pipeline the scope wraps."));
	}

	/** Called before the grant, when more operations are already waiting behind this one. */
	void markContended() {
		contended = true;
		first.contend();
	}

	/** Called when an operation queues up behind this one while it holds the connection. */
	void contend() {
		contended = true;
		first.contend();
		GatedSubscriber<?> one = consumer;
		List<GatedSubscriber<?>> more;
		synchronized (this) {
			more = moreConsumers == null ? null : new ArrayList<>(moreConsumers);
		}
		if (one != null) {
			one.contend();
		}
		if (more != null) {
			for (GatedSubscriber<?> s : more) {
				s.contend();
			}
		}
	}

	void register(GatedSubscriber<?> consumer) {
		if (!CONSUMER.compareAndSet(this, null, consumer)) {
			synchronized (this) {
				if (moreConsumers == null) {
					moreConsumers = new ArrayList<>(2);
				}
				moreConsumers.add(consumer);
			}
		}
		if (contended) {
			consumer.contend();
		}
	}
}
