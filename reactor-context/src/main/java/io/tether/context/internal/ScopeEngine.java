package io.tether.context.internal;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.ConnectionUnavailableException;
import io.tether.context.IllegalTransactionStateException;
import io.tether.context.NoBoundConnectionException;
import io.tether.context.TransactionOptions;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * The decisions behind {@link io.tether.context.ConnectionScope}: at subscription time, look at the
 * Context and reuse, join, begin or open, then hand over to a {@link ScopeSubscriber} when a resource
 * must be acquired and released.
 */
public final class ScopeEngine {

	private final ConnectionFactory factory;
	private final FactoryKey key;
	private final String description;
	private final Duration requiresNewAcquireTimeout;
	private final Scheduler timer;
	private final CleanupBound cleanup;
	private final ScopeSpec<Binding> eager = new NewConnection();
	private final ScopeSpec<Binding> lazy = new LazyConnection();

	public ScopeEngine(ConnectionFactory factory, String description, Duration requiresNewAcquireTimeout, Scheduler timer,
			Duration cleanupTimeout, Duration drainBudget) {
		this.factory = factory;
		this.key = new FactoryKey(factory);
		this.description = description;
		this.requiresNewAcquireTimeout = requiresNewAcquireTimeout;
		this.timer = timer;
		this.cleanup = new CleanupBound(cleanupTimeout, timer, drainBudget);
	}

	public String description() {
		return description;
	}

	private @Nullable Binding binding(ContextView ctx) {
		return ctx.getOrDefault(key, null);
	}

	// ---- connection scopes

	public <T> Mono<T> inConnection(Mono<T> body, boolean lazily) {
		return Mono.deferContextual(ctx -> ctx.hasKey(key) ? body : new ScopeMono<Binding, T>(lazily ? lazy : eager, b -> body));
	}

	public <T> Flux<T> inConnectionMany(Publisher<? extends T> body, boolean lazily) {
		return Flux.<T>deferContextual(ctx -> ctx.hasKey(key) ? narrow(body) : new ScopeFlux<Binding, T>(lazily ? lazy : eager, b -> body));
	}

	public <T> Mono<T> withConnection(Function<? super Connection, ? extends Mono<? extends T>> fn) {
		return Mono.<T>deferContextual(ctx -> {
			Binding b = binding(ctx);
			if (b == null) {
				return new ScopeMono<Binding, T>(eager, nb -> fn.apply(open(nb)));
			}
			Connection c = b.holder().connectionIfOpen();
			return c != null ? narrow(fn.apply(c)) : b.holder().connection().flatMap(fn);
		});
	}

	public <T> Flux<T> withConnectionMany(Function<? super Connection, ? extends Publisher<? extends T>> fn) {
		return Flux.<T>deferContextual(ctx -> {
			Binding b = binding(ctx);
			if (b == null) {
				return new ScopeFlux<Binding, T>(eager, nb -> fn.apply(open(nb)));
			}
			Connection c = b.holder().connectionIfOpen();
			return c != null ? narrow(fn.apply(c)) : b.holder().connection().flatMapMany(fn);
		});
	}

	private static Connection open(Binding b) {
		Connection c = b.holder().connectionIfOpen();
		if (c == null) {
			throw new IllegalStateException("Eagerly bound connection missing from " + b);
		}
		return c;
	}

	public Mono<Connection> currentConnection() {
		return Mono.deferContextual(ctx -> {
			Binding b = binding(ctx);
			return b == null ? Mono.error(noBinding("currentConnection()")) : b.holder().connection();
		});
	}

	public NoBoundConnectionException noBinding(String operation) {
		return new NoBoundConnectionException(operation + " found no connection of " + description
				+ " bound in this pipeline's Context. Wrap the pipeline in inConnection(...), inLazyConnection(...) "
				+ "or inTransaction(...) of a ConnectionScope on this factory, or use withConnection(fn), which opens "
				+ "a connection itself. If the pipeline is wrapped, its Context was lost on the way: a hand-made "
				+ "subscribe(), toFuture(), or a publisher subscribed outside the wrapped pipeline.");
	}

	// ---- transactions

	public Mono<Boolean> isInTransaction() {
		return Mono.deferContextual(ctx -> {
			Binding b = binding(ctx);
			return Mono.just(b != null && b.transaction() != null);
		});
	}

	public Mono<Void> setRollbackOnly() {
		return Mono.deferContextual(ctx -> {
			TransactionState tx = activeTransaction(ctx, "setRollbackOnly()");
			tx.setRollbackOnly();
			return Mono.empty();
		});
	}

	public Mono<Boolean> isRollbackOnly() {
		return Mono.deferContextual(ctx -> Mono.just(activeTransaction(ctx, "isRollbackOnly()").isRollbackOnly()));
	}

	private TransactionState activeTransaction(ContextView ctx, String operation) {
		Binding b = binding(ctx);
		TransactionState tx = b == null ? null : b.transaction();
		if (tx == null) {
			throw new IllegalTransactionStateException(operation + " needs an active transaction of " + description
					+ ", but none is active in this pipeline's Context. Call it inside inTransaction(...).");
		}
		return tx;
	}

	public <T> Mono<T> inTransaction(TransactionOptions options, Mono<T> body) {
		return Mono.deferContextual(ctx -> Mono.fromDirect(transaction(ctx, options, body, true)));
	}

	public <T> Flux<T> inTransactionMany(TransactionOptions options, Publisher<? extends T> body) {
		return Flux.deferContextual(ctx -> transaction(ctx, options, body, false));
	}

	private <T> Publisher<T> transaction(ContextView ctx, TransactionOptions o, Publisher<? extends T> body, boolean mono) {
		Binding b = binding(ctx);
		TransactionState active = b == null ? null : b.transaction();
		switch (o.propagation()) {
			case NEVER:
				if (active != null) {
					return Flux.error(new IllegalTransactionStateException("Propagation.NEVER on " + description
							+ ", but a transaction is active in this pipeline's Context"));
				}
				return narrow(body);
			case MANDATORY:
				if (active == null) {
					return Flux.error(new IllegalTransactionStateException("Propagation.MANDATORY on " + description
							+ " needs an active transaction, but none is active in this pipeline's Context"));
				}
				return join(active, body, mono);
			case NESTED:
				if (active != null) {
					return scope(new Savepoint(b.holder(), active), body, mono);
				}
				return begin(b, o, body, mono);
			case REQUIRES_NEW:
				return scope(new NewTransaction(o, b != null), body, mono);
			case REQUIRED:
			default:
				return active != null ? join(active, body, mono) : begin(b, o, body, mono);
		}
	}

	private <T> Publisher<T> begin(@Nullable Binding outer, TransactionOptions o, Publisher<? extends T> body, boolean mono) {
		ScopeSpec<Binding> spec = outer == null ? new NewTransaction(o, false) : new TransactionOnBound(outer.holder(), o);
		return scope(spec, body, mono);
	}

	private static <R, T> Publisher<T> scope(ScopeSpec<R> spec, Publisher<? extends T> body, boolean mono) {
		return mono ? new ScopeMono<R, T>(spec, r -> body) : new ScopeFlux<R, T>(spec, r -> body);
	}

	@SuppressWarnings("unchecked")
	private static <T> Publisher<T> narrow(Publisher<? extends T> p) {
		return (Publisher<T>) p;
	}

	@SuppressWarnings("unchecked")
	private static <T> Mono<T> narrow(Mono<? extends T> p) {
		return (Mono<T>) p;
	}

	/**
	 * The body inside the active transaction: an error marks it rollback-only, and so does a cancel that cuts
	 * the body short. A cancel after the body finished does not: Reactor's operators pass one on after
	 * completion (Flux.zip cancels its finished sources, flatMap and then() forward a late downstream cancel),
	 * and the body's work is done. A Mono that delivered its value is done too (next() cancels right after it).
	 */
	private static <T> Publisher<T> join(TransactionState tx, Publisher<? extends T> body, boolean mono) {
		// Per subscription (transaction() runs at subscription); volatile: a cancel may come from another thread.
		AtomicBoolean done = new AtomicBoolean();
		Runnable cancelled = () -> {
			if (!done.get()) {
				tx.markInnerCancelled();
			}
		};
		if (mono) {
			return Mono.<T>fromDirect(body)
					.doOnSuccess(v -> done.set(true))
					.doOnError(tx::markInnerFailure)
					.doOnCancel(cancelled);
		}
		return Flux.<T>from(body)
				.doOnComplete(() -> done.set(true))
				.doOnError(tx::markInnerFailure)
				.doOnCancel(cancelled);
	}

	// ---- scope specifications

	private Mono<Connection> create() {
		return Mono.from(factory.create());
	}

	private Binding bindNew(Connection raw, @Nullable TransactionOptions tx) {
		ConnectionHolder holder = ConnectionHolder.eager(factory, description, cleanup, raw);
		return new Binding(holder, tx == null ? null : new TransactionState(holder, tx));
	}

	/** A connection scope that owns its connection: bound for the body, released on every outcome. */
	private abstract class OwnedConnection extends ScopeSpec<Binding> {

		@Override
		Context bind(Context outer, Binding b) {
			return outer.put(key, b);
		}

		@Override
		Publisher<Void> onComplete(Binding b) {
			return b.holder().release();
		}

		@Override
		Publisher<Void> onError(Binding b, Throwable error) {
			return b.holder().release();
		}

		@Override
		Publisher<Void> onCancel(Binding b) {
			return b.holder().release();
		}
	}

	private final class NewConnection extends OwnedConnection {

		@Override
		Publisher<Binding> acquire(Context outer) {
			return create().map(raw -> bindNew(raw, null));
		}
	}

	private final class LazyConnection extends OwnedConnection {

		@Override
		Publisher<Binding> acquire(Context outer) {
			return Mono.just(new Binding(ConnectionHolder.lazy(factory, description, cleanup, outer), null));
		}
	}

	/** A transaction on a connection of its own: acquire, BEGIN; COMMIT or ROLLBACK, release. */
	private final class NewTransaction extends ScopeSpec<Binding> {

		private final TransactionOptions options;
		private final boolean alreadyHolding;

		NewTransaction(TransactionOptions options, boolean alreadyHolding) {
			this.options = options;
			this.alreadyHolding = alreadyHolding;
		}

		@Override
		Publisher<Binding> acquire(Context outer) {
			Mono<Connection> connection = alreadyHolding
					? new TimedAcquire(factory.create(), requiresNewAcquireTimeout, timer, this::unavailable)
					: create();
			return connection.flatMap(raw -> {
				Binding b = bindNew(raw, options);
				TransactionState tx = b.transaction();
				return beginOrUndo(tx, b.holder().release()).thenReturn(b);
			});
		}

		private ConnectionUnavailableException unavailable(Throwable cause) {
			// Our own timer fails with a TimeoutException; the pool's timeout, when it is shorter, arrives as its
			// R2dbcTimeoutException, whose message names the pool's limit and state.
			String why = cause instanceof java.util.concurrent.TimeoutException
					? "none came within " + requiresNewAcquireTimeout.toMillis() + "ms (requiresNewAcquireTimeout)"
					: "the pool gave up first: " + cause.getMessage();
			return new ConnectionUnavailableException("Propagation.REQUIRES_NEW needs a second connection of "
					+ description + " while this pipeline already holds one, and " + why + ". A pool whose every connection is held by a pipeline "
					+ "waiting for a second one can never supply it: make the pool larger than the number of "
					+ "concurrent pipelines that nest REQUIRES_NEW, or use NESTED (a savepoint on the same connection).",
					cause);
		}

		@Override
		Context bind(Context outer, Binding b) {
			return outer.put(key, b);
		}

		@Override
		Publisher<Void> onComplete(Binding b) {
			return Cleanup.andAlways(b.transaction().complete(), b.holder().release());
		}

		@Override
		Publisher<Void> onError(Binding b, Throwable error) {
			return Cleanup.andAlways(b.transaction().rollback(), b.holder().release());
		}

		@Override
		Publisher<Void> onCancel(Binding b) {
			return Cleanup.andAlways(b.transaction().rollback(), b.holder().release());
		}
	}

	/** BEGIN; if that (or setting a timeout after it) fails, roll back what may have begun and undo. */
	private static Mono<Void> beginOrUndo(TransactionState tx, Mono<Void> undo) {
		return tx.begin().onErrorResume(e -> Cleanup.andAlways(tx.rollback(), undo)
				.onErrorResume(e2 -> {
					e.addSuppressed(e2);
					return Mono.empty();
				})
				.then(Mono.error(e)));
	}

	/** A transaction on the connection that an enclosing non-transactional scope bound: BEGIN; COMMIT or ROLLBACK. */
	private final class TransactionOnBound extends ScopeSpec<Binding> {

		private final ConnectionHolder holder;
		private final TransactionOptions options;

		TransactionOnBound(ConnectionHolder holder, TransactionOptions options) {
			this.holder = holder;
			this.options = options;
		}

		@Override
		Publisher<Binding> acquire(Context outer) {
			TransactionState tx = new TransactionState(holder, options);
			return beginOrUndo(tx, Mono.empty()).thenReturn(new Binding(holder, tx));
		}

		@Override
		Context bind(Context outer, Binding b) {
			return outer.put(key, b);
		}

		@Override
		Publisher<Void> onComplete(Binding b) {
			return b.transaction().complete();
		}

		@Override
		Publisher<Void> onError(Binding b, Throwable error) {
			return b.transaction().rollback();
		}

		@Override
		Publisher<Void> onCancel(Binding b) {
			return b.transaction().rollback();
		}
	}

	/** A savepoint inside the active transaction: SAVEPOINT; RELEASE, or ROLLBACK TO on error and cancel. */
	private static final class Savepoint extends ScopeSpec<String> {

		private final ConnectionHolder holder;
		private final TransactionState tx;

		Savepoint(ConnectionHolder holder, TransactionState tx) {
			this.holder = holder;
			this.tx = tx;
		}

		@Override
		Publisher<String> acquire(Context outer) {
			String name = tx.nextSavepointName();
			return holder.connection().flatMap(c -> Mono.from(c.createSavepoint(name))).thenReturn(name);
		}

		@Override
		Publisher<Void> onComplete(String name) {
			return holder.connection().flatMap(c -> Mono.from(c.releaseSavepoint(name)));
		}

		@Override
		Publisher<Void> onError(String name, Throwable error) {
			return rollbackTo(name);
		}

		@Override
		Publisher<Void> onCancel(String name) {
			return rollbackTo(name);
		}

		/**
		 * ROLLBACK TO the savepoint, unless the connection's release has started: a cancel of the enclosing scope
		 * can release (and so roll back the whole transaction) before this savepoint's own cleanup runs, and the
		 * closed gate would then refuse it with an error nobody needs.
		 */
		private Mono<Void> rollbackTo(String name) {
			return Mono.defer(() -> holder.isReleasing() ? Mono.<Void>empty()
					: holder.connection().flatMap(c -> Mono.from(c.rollbackTransactionToSavepoint(name)))
							.onErrorResume(e -> holder.isReleasing(), e -> Mono.empty()));
		}
	}

	/** One Context key per factory, equal for every scope over the same factory instance. */
	private static final class FactoryKey {

		private final ConnectionFactory factory;

		FactoryKey(ConnectionFactory factory) {
			this.factory = factory;
		}

		@Override
		public boolean equals(@Nullable Object o) {
			return o instanceof FactoryKey && ((FactoryKey) o).factory == factory;
		}

		@Override
		public int hashCode() {
			return System.identityHashCode(factory);
		}

		@Override
		public String toString() {
			return "tether.connection[" + factory + "]";
		}
	}
}
