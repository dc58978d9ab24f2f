package io.tether.context;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.internal.ScopeEngine;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Binds connections of one {@link ConnectionFactory} to the Reactor subscriber Context, so that a whole
 * reactive pipeline shares one connection without thread-locals.
 *
 * <pre>{@code
 * ConnectionScope db = ConnectionScope.of(pool);
 *
 * Mono<Long> moved = db.inTransaction(
 *     db.withConnection(c -> Mono.from(c.createStatement("update account set balance = balance - 10 where id = 1")
 *             .execute()).flatMap(r -> Mono.from(r.getRowsUpdated())))
 *       .then(db.withConnection(c -> Mono.from(c.createStatement("update account set balance = balance + 10 where id = 2")
 *             .execute()).flatMap(r -> Mono.from(r.getRowsUpdated())))));
 * }</pre>
 *
 * <h2>Contract common to every operator</h2>
 * <ul>
 *   <li><b>Cold.</b> Nothing is acquired, sent or allocated beyond the returned publisher until it is
 *       subscribed; each subscription gets its own scope.</li>
 *   <li><b>One connection per pipeline.</b> A scope puts its connection in the Context of the publisher it
 *       wraps, under a key of this factory. Every operator of this class, and of any other
 *       {@code ConnectionScope} over the <em>same factory instance</em>, called anywhere inside, finds and
 *       reuses it, across {@code publishOn}, {@code subscribeOn}, {@code parallel()} and timers. Scopes of
 *       different factories are independent and may nest in any order.</li>
 *   <li><b>Released exactly once.</b> The scope that acquired a connection releases it when the wrapped
 *       publisher completes, fails or is cancelled, and only then signals the downstream. Before release it
 *       rolls back any transaction still open and restores auto-commit, so a pooled connection never returns
 *       with a transaction in progress. A cancel that arrives while a connection is still being acquired does
 *       not abandon the acquisition: the connection is released as soon as it arrives.</li>
 *   <li><b>Bound connections are shared, not owned.</b> The {@link Connection} handed to application code
 *       ignores {@code close()}, and runs its statements one at a time in subscription order, even when they
 *       are subscribed concurrently ({@code flatMap}, {@code zip}, {@code merge}). A statement that queues up
 *       while an earlier result on the same connection is still streaming makes that result buffer its
 *       remaining rows, so the connection frees up and neither statement hangs; the buffered rows are then
 *       delivered at the downstream's pace. Each {@code Result} must be consumed (or its subscription
 *       cancelled) for the next statement to run, as R2DBC requires anyway. A statement cancelled while the
 *       server answers it is drained before the next one runs; past {@link Builder#drainBudget(Duration)},
 *       outside a transaction and where the driver can (PostgreSQL), the server is asked to cancel it.</li>
 * </ul>
 *
 * <p>Instances are immutable and thread-safe; create one per factory and share it.
 *
 * @since 0.1
 */
public final class ConnectionScope {

	private static final Duration DEFAULT_DRAIN_BUDGET = Duration.ofMillis(5);

	private final ConnectionFactory factory;
	private final ScopeEngine engine;

	private ConnectionScope(Builder b) {
		this.factory = b.factory;
		String name = b.name != null ? b.name
				: factory.getMetadata().getName() + "@" + Integer.toHexString(System.identityHashCode(factory));
		this.engine = new ScopeEngine(factory, name, b.requiresNewAcquireTimeout, b.timer, b.cleanupTimeout,
				b.drainBudget);
	}

	/** A scope over {@code factory} with default settings. */
	public static ConnectionScope of(ConnectionFactory factory) {
		return builder(factory).build();
	}

	public static Builder builder(ConnectionFactory factory) {
		return new Builder(factory);
	}

	/** The factory whose connections this scope binds. */
	public ConnectionFactory factory() {
		return factory;
	}

	/** The name used in error messages: the configured one, else the driver name and the factory identity. */
	public String name() {
		return engine.description();
	}

	// ---------------------------------------------------------------- connection scopes

	/**
	 * Runs {@code body} with one connection of this factory bound in its Context.
	 * <ul>
	 *   <li><b>Subscribe:</b> if a connection of this factory is already bound (an enclosing scope or
	 *       transaction), {@code body} simply runs with it: nothing is acquired and nothing released here.
	 *       Otherwise one connection is acquired, then {@code body} is subscribed.</li>
	 *   <li><b>Complete / error:</b> the acquired connection is released (open transaction rolled back,
	 *       auto-commit restored, closed), then the value and completion, or the error, are signalled. A
	 *       failing release turns completion into that error, or is attached to the body's error as suppressed.</li>
	 *   <li><b>Cancel:</b> {@code body} is cancelled and the connection released in the background; release
	 *       errors go to {@link reactor.core.publisher.Hooks#onErrorDropped}. A cancel during acquisition releases
	 *       the connection when it arrives.</li>
	 * </ul>
	 * The value is emitted after the release, so a downstream that cancels after it cannot interrupt the release.
	 *
	 * @return a cold {@code Mono} that emits what {@code body} emits
	 */
	public <T> Mono<T> inConnection(Mono<T> body) {
		return engine.inConnection(Objects.requireNonNull(body, "body must not be null"), false);
	}

	/**
	 * Runs {@code body} with one connection of this factory bound in its Context; the {@code Flux} flavour
	 * of {@link #inConnection(Mono)}, with the same behaviour on subscribe, complete, error and cancel. Items
	 * pass through as they come; completion is signalled after the release.
	 */
	public <T> Flux<T> inConnection(Publisher<? extends T> body) {
		return engine.inConnectionMany(Objects.requireNonNull(body, "body must not be null"), false);
	}

	/**
	 * Like {@link #inConnection(Mono)}, but binds a <em>handle</em> that acquires the connection only when
	 * the first operation inside needs it ({@link #withConnection}, {@link #currentConnection()} or a
	 * transaction). A body that never touches the database never acquires. The connection, once acquired, is
	 * shared by the rest of the body and released when the body completes, fails or is cancelled; if the
	 * acquisition is still under way then, the release waits for it. If an acquisition fails, the operation
	 * that triggered it fails and the next one tries again. Cancelling the operation that triggered the
	 * acquisition does not abandon the acquisition: the scope owns the connection.
	 */
	public <T> Mono<T> inLazyConnection(Mono<T> body) {
		return engine.inConnection(Objects.requireNonNull(body, "body must not be null"), true);
	}

	/** The {@code Flux} flavour of {@link #inLazyConnection(Mono)}. */
	public <T> Flux<T> inLazyConnection(Publisher<? extends T> body) {
		return engine.inConnectionMany(Objects.requireNonNull(body, "body must not be null"), true);
	}

	/**
	 * Calls {@code fn} with the connection bound in the Context, or, if none is bound, with a connection
	 * acquired for this call alone and bound for what {@code fn} returns (so nested calls reuse it).
	 * <ul>
	 *   <li><b>Which connection:</b> the bound one (acquired now if the binding is lazy), else a new one.</li>
	 *   <li><b>Complete / error / cancel:</b> a bound connection stays open: its scope releases it. A
	 *       connection acquired for this call is released as {@link #inConnection(Mono)} describes.</li>
	 * </ul>
	 * The connection given to {@code fn} ignores {@code close()} and serializes its statements.
	 */
	public <T> Mono<T> withConnection(Function<? super Connection, ? extends Mono<? extends T>> fn) {
		return engine.withConnection(Objects.requireNonNull(fn, "fn must not be null"));
	}

	/** The {@code Flux} flavour of {@link #withConnection(Function)}. */
	public <T> Flux<T> withConnectionMany(Function<? super Connection, ? extends Publisher<? extends T>> fn) {
		return engine.withConnectionMany(Objects.requireNonNull(fn, "fn must not be null"));
	}

	/**
	 * The connection bound in the Context, acquiring it through a lazy handle if needed. This is the raw
	 * path: the caller must not keep the connection beyond the scope. Fails with
	 * {@link NoBoundConnectionException}, naming this factory, if nothing is bound.
	 */
	public Mono<Connection> currentConnection() {
		return engine.currentConnection();
	}

	// ---------------------------------------------------------------- transactions

	/** {@link #inTransaction(TransactionOptions, Mono)} with {@link TransactionOptions#defaults()}. */
	public <T> Mono<T> inTransaction(Mono<T> body) {
		return inTransaction(TransactionOptions.defaults(), body);
	}

	/** {@link #inTransaction(TransactionOptions, Publisher)} with {@link TransactionOptions#defaults()}. */
	public <T> Flux<T> inTransaction(Publisher<? extends T> body) {
		return inTransaction(TransactionOptions.defaults(), body);
	}

	/**
	 * Runs {@code body} in a transaction, according to {@code options.propagation()}:
	 * <ul>
	 *   <li><b>Which connection:</b> the bound one when joining or beginning on a bound connection; a new one
	 *       when nothing is bound or for {@link Propagation#REQUIRES_NEW}.</li>
	 *   <li><b>Subscribe:</b> {@code BEGIN} with the options (or {@code SAVEPOINT} for a nested scope), then
	 *       {@code body} is subscribed. A cancel during {@code BEGIN} waits for it, then rolls back.</li>
	 *   <li><b>Complete:</b> {@code COMMIT} (or {@code RELEASE SAVEPOINT}); if the transaction was marked
	 *       rollback-only, {@code ROLLBACK} instead. Then the value and completion are signalled; a failed
	 *       commit is signalled as the error. A joined scope completes without committing.</li>
	 *   <li><b>Error:</b> {@code ROLLBACK} (or {@code ROLLBACK TO SAVEPOINT}), then the error. A joined scope
	 *       marks the transaction rollback-only and passes the error on.</li>
	 *   <li><b>Cancel:</b> {@code ROLLBACK} (or to the savepoint) in the background, then release. A cancel
	 *       that arrives during {@code COMMIT} lets the commit finish. A joined scope cancelled before its value
	 *       marks the transaction rollback-only.</li>
	 * </ul>
	 * A connection the scope acquired itself is released after the transaction ends, with the session settings
	 * the transaction changed (isolation level, statement timeout, auto-commit) restored first.
	 *
	 * @return a cold {@code Mono}; the value is emitted only after a successful commit
	 */
	public <T> Mono<T> inTransaction(TransactionOptions options, Mono<T> body) {
		return engine.inTransaction(Objects.requireNonNull(options, "options must not be null"),
				Objects.requireNonNull(body, "body must not be null"));
	}

	/**
	 * The {@code Flux} flavour of {@link #inTransaction(TransactionOptions, Mono)}. Items are delivered as the
	 * body emits them, that is before the commit; completion is signalled after it.
	 */
	public <T> Flux<T> inTransaction(TransactionOptions options, Publisher<? extends T> body) {
		return engine.inTransactionMany(Objects.requireNonNull(options, "options must not be null"),
				Objects.requireNonNull(body, "body must not be null"));
	}

	/**
	 * Marks the active transaction rollback-only: its outermost scope will roll back instead of committing,
	 * and complete normally. Fails with {@link IllegalTransactionStateException} when no transaction of this
	 * factory is active in the Context.
	 */
	public Mono<Void> setRollbackOnly() {
		return engine.setRollbackOnly();
	}

	/** Whether the active transaction is marked rollback-only; fails like {@link #setRollbackOnly()} without one. */
	public Mono<Boolean> isRollbackOnly() {
		return engine.isRollbackOnly();
	}

	/** Whether a transaction of this factory is active in the Context. */
	public Mono<Boolean> isInTransaction() {
		return engine.isInTransaction();
	}

	@Override
	public String toString() {
		return "ConnectionScope[" + name() + "]";
	}

	/** Builds a {@link ConnectionScope}. */
	public static final class Builder {

		private final ConnectionFactory factory;
		private @Nullable String name;
		private Duration requiresNewAcquireTimeout = Duration.ofSeconds(10);
		private Scheduler timer = Schedulers.parallel();
		private Duration cleanupTimeout = Duration.ofSeconds(10);
		private Duration drainBudget = DEFAULT_DRAIN_BUDGET;

		private Builder(ConnectionFactory factory) {
			this.factory = Objects.requireNonNull(factory, "factory must not be null");
		}

		/** A name for error messages, e.g. {@code "orders-db"}. */
		public Builder name(String name) {
			Objects.requireNonNull(name, "name must not be null");
			if (name.isBlank()) {
				throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
			}
			this.name = name;
			return this;
		}

		/**
		 * How long {@link Propagation#REQUIRES_NEW} waits for its second connection while the pipeline already
		 * holds one, before failing with {@link ConnectionUnavailableException}; default 10 seconds. A pool's own
		 * acquire timeout, if shorter, fails first and is reported the same way, with the pool's message (and not
		 * this wait) as the reason. The acquisition itself goes on after this wait: a connection that still comes
		 * is closed at once, and one that fails later (its pool closing meanwhile, say) is only logged at DEBUG.
		 */
		public Builder requiresNewAcquireTimeout(Duration timeout) {
			Objects.requireNonNull(timeout, "timeout must not be null");
			if (timeout.isNegative() || timeout.isZero()) {
				throw new IllegalArgumentException("requiresNewAcquireTimeout must be > 0, was " + timeout);
			}
			this.requiresNewAcquireTimeout = timeout;
			return this;
		}

		/**
		 * How long each cleanup step of a scope may take before the connection is given up; default 10 seconds.
		 * The steps: the drain of a statement cancelled while the server was answering it (the driver must read
		 * the rest of its answer before the next command), the rollback of a transaction after an error or a
		 * cancel, the restore of session state, and the release. A step that does not finish in time destroys
		 * the physical connection (closed underneath its pool's wrapper, then released, so the pool drops it)
		 * instead of waiting forever; the scope's downstream, if still listening, is signalled after that.
		 * A step is given up between this timeout and a tenth of it later: steps are checked by one shared
		 * sweep rather than a timer each, so that the bound costs nothing while cleanups finish in time.
		 */
		public Builder cleanupTimeout(Duration timeout) {
			Objects.requireNonNull(timeout, "timeout must not be null");
			if (timeout.isNegative() || timeout.isZero()) {
				throw new IllegalArgumentException("cleanupTimeout must be > 0, was " + timeout);
			}
			this.cleanupTimeout = timeout;
			return this;
		}

		/**
		 * How long the rest of a cancelled statement's result is read and discarded before the server is asked
		 * to cancel the statement; default 5 milliseconds. A statement cancelled while the server still answers
		 * it ({@code take(1)} of a large result, a {@code timeout} on a slow query) is drained, so that the next
		 * statement on the connection finds the protocol free. A short result is over within the budget, at the
		 * cost of the rows in flight. Past the budget, if the driver can cancel at the server
		 * (r2dbc-postgresql's cancel request) and the connection is not inside a transaction, the server is
		 * asked to cancel the statement and the drain reads only what was already sent; the server's
		 * "canceling statement" error (SQLState 57014) is swallowed by the drain. The next statement waits until
		 * the server has taken the request (it travels on a connection of its own, some milliseconds), so that
		 * the cancel cannot reach it; a statement whose results someone still reads is never cancelled. Inside a
		 * transaction, where a cancel at the server would abort the transaction, and on drivers without a cancel
		 * request (H2), the remainder is drained in full. {@link Duration#ZERO} asks the server at once, also
		 * for a result about to end; a budget not shorter than {@link #cleanupTimeout} never asks. The whole
		 * drain stays within {@link #cleanupTimeout}.
		 */
		public Builder drainBudget(Duration budget) {
			Objects.requireNonNull(budget, "budget must not be null");
			if (budget.isNegative()) {
				throw new IllegalArgumentException("drainBudget must be >= 0, was " + budget);
			}
			this.drainBudget = budget;
			return this;
		}

		/**
		 * The scheduler that times {@link #requiresNewAcquireTimeout} and {@link #cleanupTimeout}; default
		 * {@link Schedulers#parallel()}. The
		 * same name as {@code Database.Builder#scheduler} and the pool's {@code PoolSettings.Builder#scheduler}.
		 */
		public Builder scheduler(Scheduler scheduler) {
			this.timer = Objects.requireNonNull(scheduler, "scheduler must not be null");
			return this;
		}

		public ConnectionScope build() {
			return new ConnectionScope(this);
		}
	}
}
