package io.tether.context.internal;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import io.tether.context.IllegalTransactionStateException;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.publisher.Sinks;
import reactor.util.Logger;
import reactor.util.Loggers;
import reactor.util.context.Context;

/**
 * One physical connection as a scope holds it: acquired eagerly (given at construction) or lazily (on
 * the first {@link #connection()} call), always released by the scope that created the holder, exactly
 * once, with any open transaction rolled back and auto-commit restored first.
 *
 * <p>The release waits for every operation already admitted on the connection (a cancelled statement
 * being drained, a {@code BEGIN} still on its way), so that the session state it checks is the server's
 * answer, not a guess; operations that come later are refused. Each step is bounded by the
 * {@link CleanupBound}: a step that does not finish in time, or a connection whose protocol state is
 * unknown, is destroyed instead of returned (see {@link #destroy}).
 */
public final class ConnectionHolder {

	private static final Logger LOG = Loggers.getLogger(ConnectionHolder.class);

	private static final int NONE = 0;
	private static final int ACQUIRING = 1;
	private static final int READY = 2;
	private static final int RELEASED = 3;

	private final ConnectionFactory factory;
	private final String description;
	private final CleanupBound bound;

	// guarded by this
	private int state;
	private Sinks.@Nullable One<Connection> pending;
	private @Nullable Context acquireContext;

	// written once before publication (eager) or under the lock (lazy), read lock-free afterwards
	private volatile @Nullable ScopedConnection connection;
	private volatile @Nullable Mono<Connection> ready;
	private boolean initialAutoCommit;
	// set when the release starts: the transaction commands of scopes still unwinding then leave the
	// session to the release, which waits for what is in flight and rolls back itself
	private volatile boolean releasing;

	private ConnectionHolder(ConnectionFactory factory, String description, CleanupBound bound) {
		this.factory = factory;
		this.description = description;
		this.bound = bound;
	}

	/** A holder for a connection that has just been acquired. */
	static ConnectionHolder eager(ConnectionFactory factory, String description, CleanupBound bound, Connection raw) {
		ConnectionHolder h = new ConnectionHolder(factory, description, bound);
		h.open(raw);
		h.state = READY;
		return h;
	}

	/** A holder that acquires on first use, with {@code context} as the acquisition's Context. */
	static ConnectionHolder lazy(ConnectionFactory factory, String description, CleanupBound bound, Context context) {
		ConnectionHolder h = new ConnectionHolder(factory, description, bound);
		h.acquireContext = context;
		return h;
	}

	CleanupBound bound() {
		return bound;
	}

	/** Whether the release has started: nothing but the release may touch the session any more. */
	boolean isReleasing() {
		return releasing;
	}

	/** Marks the connection's state as unknown (a cleanup step failed to finish): the release destroys it. */
	void poison() {
		ScopedConnection c = connection;
		if (c != null) {
			c.gate().poison();
		}
	}

	private void open(Connection raw) {
		initialAutoCommit = raw.isAutoCommit();
		ScopedConnection c = new ScopedConnection(raw, new StatementGate(bound, new ServerCancel(raw)));
		connection = c;
		ready = Mono.just(c);
	}

	/** The connection if it is open, without acquiring. */
	@Nullable ScopedConnection connectionIfOpen() {
		return connection;
	}

	/** The connection; acquires it on first call if this holder is lazy. Cancelling does not abort the acquisition. */
	Mono<Connection> connection() {
		Mono<Connection> r = ready;
		return r != null ? r : Mono.defer(this::acquireLazily);
	}

	private Mono<Connection> acquireLazily() {
		Sinks.One<Connection> sink;
		boolean start = false;
		Context ctx;
		synchronized (this) {
			switch (state) {
				case READY:
					return Mono.just(connection);
				case RELEASED:
					return Mono.error(new IllegalTransactionStateException("The lazy connection scope of " + description
							+ " has already ended: a statement was subscribed after the scope terminated. Subscribe "
							+ "statements inside the pipeline the scope wraps."));
				case NONE:
					state = ACQUIRING;
					pending = Sinks.one();
					start = true;
					break;
				default:
					break;
			}
			sink = pending;
			ctx = acquireContext;
		}
		if (start) {
			// The acquisition belongs to the scope, not to the statement that triggered it: a cancelled
			// statement must not cancel it, and the scope's release waits for its outcome.
			factory.create().subscribe(new LazyAcquirer(sink, ctx == null ? Context.empty() : ctx));
		}
		return sink.asMono();
	}

	private final class LazyAcquirer implements CoreSubscriber<Connection> {

		private final Sinks.One<Connection> sink;
		private final Context context;
		private boolean received;

		LazyAcquirer(Sinks.One<Connection> sink, Context context) {
			this.sink = sink;
			this.context = context;
		}

		@Override
		public Context currentContext() {
			return context;
		}

		@Override
		public void onSubscribe(Subscription s) {
			s.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(Connection raw) {
			if (received) {
				// A factory that emits twice breaks the R2DBC contract; do not leak the extra connection.
				DroppingSubscriber.run(raw.close(), context);
				return;
			}
			received = true;
			synchronized (ConnectionHolder.this) {
				open(raw);
				if (state == ACQUIRING) {
					state = READY;
				}
			}
			sink.tryEmitValue(connection);
		}

		@Override
		public void onError(Throwable t) {
			if (received) {
				Operators.onErrorDropped(t, context);
				return;
			}
			received = true;
			synchronized (ConnectionHolder.this) {
				if (state == ACQUIRING) {
					// A later statement of the same scope tries again.
					state = NONE;
				}
				pending = null;
			}
			sink.tryEmitError(t);
		}

		@Override
		public void onComplete() {
			if (!received) {
				onError(new IllegalStateException("ConnectionFactory.create() of " + description
						+ " completed without emitting a connection"));
			}
		}
	}

	/**
	 * Releases the connection, if one was acquired: rolls back a transaction left open, restores
	 * auto-commit, closes. Waits for an acquisition still in flight. Idempotent; never gated, so it cannot
	 * queue behind a statement whose result nobody consumes.
	 */
	Mono<Void> release() {
		return Mono.defer(() -> {
			Sinks.One<Connection> inFlight;
			synchronized (this) {
				int s = state;
				state = RELEASED;
				releasing = true;
				if (s == NONE || s == RELEASED) {
					return Mono.empty();
				}
				inFlight = s == ACQUIRING ? pending : null;
			}
			if (inFlight != null) {
				return inFlight.asMono().onErrorResume(e -> Mono.empty()).flatMap(c -> resetAndClose());
			}
			return resetAndClose();
		});
	}

	private Mono<Void> resetAndClose() {
		ScopedConnection c = connection;
		if (c == null) {
			return Mono.empty();
		}
		Connection raw = c.unwrap();
		StatementGate gate = c.gate();
		if (gate.closeIfIdle() && !gate.isPoisoned() && raw.isAutoCommit() && initialAutoCommit) {
			// The common case, kept cheap: nothing in flight on the connection, nothing to reset.
			return bounded(Mono.from(raw.close()), "the close").onErrorResume(e -> destroy(raw, e));
		}
		Mono<Void> reset = Mono.defer(() -> {
			if (gate.isPoisoned()) {
				return Mono.error(new IllegalStateException("a cancelled statement was not drained within "
						+ bound.timeout().toMillis() + "ms"));
			}
			if (raw.isAutoCommit() && initialAutoCommit) {
				// Nothing to reset (no transaction open, auto-commit as found): the common case, kept cheap.
				return Mono.empty();
			}
			Mono<Void> rollback = Mono.defer(() -> raw.isAutoCommit() ? Mono.empty() : Mono.from(raw.rollbackTransaction()));
			Mono<Void> restore = Mono.defer(() -> raw.isAutoCommit() == initialAutoCommit
					? Mono.empty() : Mono.from(raw.setAutoCommit(initialAutoCommit)));
			return bounded(rollback.then(restore), "the rollback and restore of auto-commit");
		});
		return bounded(gate.closeWhenIdle(), "the operations still running on the connection")
				.then(reset)
				.then(Mono.defer(() -> bounded(Mono.from(raw.close()), "the close")))
				.onErrorResume(e -> destroy(raw, e));
	}

	private Mono<Void> bounded(Mono<Void> step, String what) {
		return bound.bound(step, () -> new TimeoutException(what + " did not finish within " + bound.timeout().toMillis() + "ms"));
	}

	/**
	 * Gives up on a connection whose cleanup failed or could not finish: closes the physical connection
	 * underneath every wrapper (a pool's close would return it), lets a pool see it is no longer valid,
	 * then closes the connection as the scope got it so that a pool counts the release. Every step is
	 * bounded; what fails is dropped, as nobody waits for a release after a cancel.
	 */
	private Mono<Void> destroy(Connection raw, Throwable why) {
		Connection physical = raw;
		for (int i = 0; i < 10 && physical instanceof Wrapped<?> w && w.unwrap() instanceof Connection inner; i++) {
			physical = inner;
		}
		Connection innermost = physical;
		LOG.warn("Destroying a connection of " + description + " instead of returning it: its cleanup failed or did not "
				+ "finish (" + why + ")");
		Mono<Void> closePhysical = innermost == raw ? Mono.empty()
				: quietly(bounded(Mono.from(innermost.close()), "closing the physical connection"));
		Mono<Void> invalidate = innermost == raw ? Mono.empty()
				: quietly(bounded(Mono.from(raw.validate(ValidationDepth.LOCAL)).then(), "the validation"));
		return closePhysical.then(invalidate).then(quietly(bounded(Mono.from(raw.close()), "the close")));
	}

	private static Mono<Void> quietly(Mono<Void> step) {
		return step.onErrorResume(e -> Mono.empty());
	}

	String description() {
		return description;
	}

	@Override
	public String toString() {
		return "ConnectionHolder[" + description + ", " + connection + "]";
	}
}
