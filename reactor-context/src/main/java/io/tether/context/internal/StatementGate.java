package io.tether.context.internal;

import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Lets the operations on one bound connection run one at a time, in the order they were subscribed.
 *
 * <p>An operation ({@code execute()} of a statement or batch, or a transaction command) takes a
 * {@link Lease} when it is subscribed and holds it until the driver has finished with it: its own
 * publisher and every result consumption started from it have terminated. A cancelled operation or
 * consumption keeps its lease while it is drained to its end (see {@link GatedSubscriber}): the driver
 * is still answering it, and the next operation must not be sent as if the protocol were free.
 *
 * <p>When a further operation queues up behind a lease, the holder is told it is contended and switches
 * its publishers to draining: it requests everything from the driver and buffers what the downstream has
 * not asked for yet. That frees the connection even when the downstream of the holder is itself waiting for
 * the queued operation (a query inside {@code flatMap} over a streaming result), which would otherwise hang.
 *
 * <p>The scope's release {@linkplain #closeWhenIdle() closes} the gate: it waits for every operation
 * already admitted, and refuses those that come later. A drain that could not finish in its bound
 * {@linkplain #poison() poisons} the gate: the connection's protocol state is unknown, so the release
 * destroys it.
 *
 * <p>Grants are trampolined: an operation that completes synchronously while being granted (H2 does)
 * hands over to the next one in a loop rather than by recursion.
 */
final class StatementGate {

	private final CleanupBound bound;
	private final ServerCancel serverCancel;

	// All fields guarded by "this"; no user code or driver code runs while the lock is held.
	private @Nullable Lease active;
	private @Nullable Lease toGrant;
	private boolean granting;
	private @Nullable ArrayDeque<Lease> waiting;
	private boolean closed;
	private @Nullable MonoSink<Void> idle;
	// consumptions still reading results of operations that already left the gate (the driver buffered them)
	private int stragglers;
	private volatile boolean poisoned;

	StatementGate(CleanupBound bound, ServerCancel serverCancel) {
		this.bound = bound;
		this.serverCancel = serverCancel;
	}

	CleanupBound bound() {
		return bound;
	}

	/** How a drain that outlasts its budget asks the server to cancel the statement (see {@link GatedSubscriber}). */
	ServerCancel serverCancel() {
		return serverCancel;
	}

	/** Marks the connection's protocol state as unknown: its release destroys it. */
	void poison() {
		poisoned = true;
	}

	boolean isPoisoned() {
		return poisoned;
	}

	void enter(Lease lease) {
		Lease contended;
		boolean refuse = false;
		synchronized (this) {
			if (lease.isReleased()) {
				// Cancelled between its subscription and this call (a subscriber may cancel within onSubscribe):
				// its leave() found it neither active nor waiting and did nothing, so entering now would hold
				// the connection for good. The check is under the lock that leave() takes, so a release that
				// comes after it finds the lease here and hands the connection on.
				return;
			}
			if (closed) {
				refuse = true;
				contended = null;
			}
			else if (active == null) {
				active = lease;
				if (granting) {
					toGrant = lease;
					return;
				}
				granting = true;
				contended = null;
			}
			else {
				if (waiting == null) {
					waiting = new ArrayDeque<>(4);
				}
				waiting.addLast(lease);
				contended = active;
			}
		}
		if (refuse) {
			lease.refuse();
			return;
		}
		if (contended != null) {
			contended.contend();
			return;
		}
		lease.grant();
		// Grants that became due while this one ran (it may have completed synchronously) run here too.
		grantLoop();
	}

	void leave(Lease lease) {
		MonoSink<Void> nowIdle = null;
		boolean grant = false;
		synchronized (this) {
			ArrayDeque<Lease> w = waiting;
			if (active != lease) {
				if (w != null) {
					w.remove(lease);
				}
				return;
			}
			Lease next = w == null ? null : w.pollFirst();
			active = next;
			if (next == null) {
				if (closed && stragglers == 0) {
					nowIdle = idle;
					idle = null;
				}
			}
			else {
				if (!w.isEmpty()) {
					next.markContended();
				}
				toGrant = next;
				if (!granting) {
					granting = true;
					grant = true;
				}
			}
		}
		if (nowIdle != null) {
			nowIdle.success();
		}
		if (grant) {
			grantLoop();
		}
	}

	/**
	 * Closes the gate to new operations and completes once every operation admitted before has left it.
	 * Cancelling the returned Mono (a timeout) stops waiting; the gate stays closed.
	 */
	Mono<Void> closeWhenIdle() {
		return Mono.create(sink -> {
			boolean now;
			synchronized (this) {
				closed = true;
				now = active == null && stragglers == 0;
				if (!now) {
					idle = sink;
				}
			}
			if (now) {
				sink.success();
				return;
			}
			sink.onCancel(() -> {
				synchronized (this) {
					if (idle == sink) {
						idle = null;
					}
				}
			});
		});
	}

	/**
	 * Closes the gate to new operations, like {@link #closeWhenIdle()}, and says whether every operation
	 * admitted before has already left it (then there is nothing to wait for).
	 */
	synchronized boolean closeIfIdle() {
		closed = true;
		return active == null && stragglers == 0;
	}

	/**
	 * The driver is about to create a statement or batch on the connection: false if the gate is closed (the
	 * connection is released or being released). Otherwise the release waits until {@link #straggled()}.
	 */
	synchronized boolean enterCreation() {
		if (closed) {
			return false;
		}
		stragglers++;
		return true;
	}

	/** A consumption starts reading a result outside any lease: the release waits for it too. */
	void straggle() {
		synchronized (this) {
			stragglers++;
		}
	}

	void straggled() {
		MonoSink<Void> nowIdle = null;
		synchronized (this) {
			stragglers--;
			if (stragglers == 0 && active == null && closed) {
				nowIdle = idle;
				idle = null;
			}
		}
		if (nowIdle != null) {
			nowIdle.success();
		}
	}

	private void grantLoop() {
		for (;;) {
			Lease next;
			synchronized (this) {
				next = toGrant;
				toGrant = null;
				if (next == null) {
					granting = false;
					return;
				}
			}
			next.grant();
		}
	}
}
