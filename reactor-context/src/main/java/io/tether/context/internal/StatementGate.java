package io.tether.context.internal;

import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * Lets the operations on one bound connection run one at a time, in the order they were subscribed.
 *
 * <p>An operation ({@code execute()} of a statement or batch, or a transaction command) takes a
 * {@link Lease} when it is subscribed and holds it until the driver has finished with it: its own
 * publisher and every result consumption started from it have terminated. When a further operation
 * queues up behind a lease, the holder is told it is contended and switches its publishers to draining:
 * it requests everything from the driver and buffers what the downstream has not asked for yet. That
 * frees the connection even when the downstream of the holder is itself waiting for the queued
 * operation (a query inside {@code flatMap} over a streaming result), which would otherwise hang.
 *
 * <p>Grants are trampolined: an operation that completes synchronously while being granted (H2 does)
 * hands over to the next one in a loop rather than by recursion.
 */
final class StatementGate {

	// All fields guarded by "this"; no user code or driver code runs while the lock is held.
	private @Nullable Lease active;
	private @Nullable Lease toGrant;
	private boolean granting;
	private @Nullable ArrayDeque<Lease> waiting;

	void enter(Lease lease) {
		Lease contended;
		synchronized (this) {
			if (lease.isReleased()) {
				// Cancelled between its subscription and this call (a subscriber may cancel within onSubscribe):
				// its leave() found it neither active nor waiting and did nothing, so entering now would hold
				// the connection for good. The check is under the lock that leave() takes, so a release that
				// comes after it finds the lease here and hands the connection on.
				return;
			}
			if (active == null) {
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
		if (contended != null) {
			contended.contend();
			return;
		}
		lease.grant();
		// Grants that became due while this one ran (it may have completed synchronously) run here too.
		grantLoop();
	}

	void leave(Lease lease) {
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
				return;
			}
			if (!w.isEmpty()) {
				next.markContended();
			}
			toGrant = next;
			if (granting) {
				return;
			}
			granting = true;
		}
		grantLoop();
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
