package io.tether.core;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;
import io.tether.context.ConnectionScope;
import io.tether.context.Propagation;
import io.tether.context.TransactionOptions;
import io.tether.core.internal.BindLimit;
import io.tether.core.internal.Executor;
import io.tether.core.internal.StatementLog;
import io.tether.pool.PoolSettings;
import io.tether.pool.R2dbcUrls;
import io.tether.pool.TetherPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The entry point of application code: SQL with named parameters, row mapping, transactions and
 * connection scopes over one {@link ConnectionFactory}.
 *
 * <pre>{@code
 * Database db = Database.connect("r2dbc:h2:mem:///demo?options=DB_CLOSE_DELAY=-1");   // pooled
 *
 * Mono<User> user = db.sql("select id, email from users where id = :id")
 *     .bind("id", 42)
 *     .mapTo(User.class)
 *     .one();
 *
 * Mono<Long> moved = db.inTransaction(
 *     db.sql("update account set balance = balance - :n where id = :from").bind("n", 10).bind("from", 1).rowsUpdated()
 *       .then(db.sql("update account set balance = balance + :n where id = :to").bind("n", 10).bind("to", 2).rowsUpdated()));
 * }</pre>
 *
 * <h2>Which connection a statement uses</h2>
 * Every statement looks for a connection of this database's factory in the Reactor Context of its
 * subscriber. Inside {@link #inConnection}, {@link #inLazyConnection}, {@link #withConnection} or
 * {@link #inTransaction} it runs on that bound connection (and so inside the transaction, if one is open).
 * Outside any scope it acquires a connection for itself when subscribed and releases it when its result
 * completes, fails or is cancelled. Scopes opened with a {@link ConnectionScope} over the same factory
 * instance (see {@link #scope()}) are shared with this class in both directions.
 *
 * <h2>Errors</h2>
 * Every publisher returned here reports driver errors as a {@link DataAccessException} subclass that keeps
 * R2DBC's transient / non-transient split and carries the SQLState, the vendor code and the SQL text, but
 * never bind values (nor, unless {@link Builder#serverErrorDetail} says otherwise, values the server quotes
 * back). A closed database or pool is a {@link NonTransientConnectionException}. Other errors (from the
 * application's own code, or Tether's {@link io.tether.context.TetherException}s) pass through unchanged.
 *
 * <p>Instances are immutable apart from their closed flag and thread-safe; create one per database and share
 * it. Every publisher returned is cold: nothing is parsed, acquired or sent before subscription.
 *
 * @since 0.1
 */
public final class Database implements AutoCloseable {

	private final ConnectionFactory factory;
	private final @Nullable Object owned;
	private final ConnectionScope scope;
	private final Executor executor;
	private final AtomicBoolean closed = new AtomicBoolean();
	private final RetryPolicy defaultRetry;
	private final String name;
	private final StatementLog log;

	private Database(Builder b) {
		this.factory = b.factory;
		this.owned = b.closeFactoryOnClose ? b.factory : null;
		String driver = factory.getMetadata().getName();
		this.name = b.name != null ? b.name : driver;
		this.scope = b.scope.name(name).build();
		BindMarkerStyle markers = b.bindMarkers != null ? b.bindMarkers : BindMarkerStyle.forDriver(driver);
		BindLimit limit = b.maxBindParameters > 0 ? BindLimit.of(b.maxBindParameters, driver) : BindLimit.forDriver(driver);
		this.log = new StatementLog(name, b.slowStatementThreshold, b.logBindValues, b.bindValuesInErrors, b.serverErrorDetail);
		this.executor = new Executor(scope, markers.markers(), limit, log, closed::get);
		this.defaultRetry = b.retryPolicy;
	}

	private static final String R2DBC_POOL_DRIVER = "pool";

	/** The option names only Tether's pool reads, with r2dbc-pool's name for the same thing where it has one. */
	private static final Map<String, String> TETHER_ONLY_POOL_OPTIONS = tetherOnlyPoolOptions();

	/**
	 * A database over a new connection pool for {@code r2dbcUrl}. {@link #close()} closes the pool.
	 * <ul>
	 *   <li>A driver URL ({@code r2dbc:postgresql://host/db?maxSize=20}) gets a {@link TetherPool}, Tether's
	 *       own pool; its settings may be given as URL options (see {@link io.tether.pool.PoolSettings}), the
	 *       other options go to the driver.</li>
	 *   <li>An {@code r2dbc:pool:} URL ({@code r2dbc:pool:postgresql://host/db?maxSize=20&maxAcquireTime=PT2S}),
	 *       R2DBC's convention for "pooled", gets r2dbc-pool's {@code ConnectionPool}, exactly as
	 *       {@code ConnectionFactories.get(url)} builds it, with r2dbc-pool's option names ({@code maxSize},
	 *       {@code initialSize}, {@code minIdle}, {@code maxIdleTime}, {@code maxLifeTime},
	 *       {@code maxAcquireTime}, {@code validationQuery}, ...). An option only Tether's pool knows (such as
	 *       {@code acquireTimeout} or {@code leakDetectionThreshold}) is refused there rather than silently
	 *       ignored.</li>
	 * </ul>
	 *
	 * @throws IllegalArgumentException if the URL is malformed, names no available driver (the message lists
	 *         those found) or one whose bind-marker syntax Tether does not know (use {@link #builder} with
	 *         {@link Builder#bindMarkers} then), carries an option that looks like a misspelt pool setting
	 *         ({@code maxsize}: "did you mean 'maxSize'?"), or an invalid pool setting. No message or cause
	 *         contains the URL's password.
	 */
	public static Database connect(String r2dbcUrl) {
		Objects.requireNonNull(r2dbcUrl, "r2dbcUrl must not be null");
		// Everything that can refuse the URL runs before the pool exists, so a refusal leaves nothing to close.
		ConnectionFactoryOptions options = R2dbcUrls.parse(r2dbcUrl);
		if (options.getRequiredValue(ConnectionFactoryOptions.DRIVER).toString().equals(R2DBC_POOL_DRIVER)) {
			Object protocol = options.getValue(ConnectionFactoryOptions.PROTOCOL);
			if (protocol == null || protocol.toString().isEmpty()) {
				throw new IllegalArgumentException("An r2dbc:pool: URL names the driver after 'pool:', e.g. "
						+ "r2dbc:pool:postgresql://host/db; it has none");
			}
			BindMarkerStyle markers = BindMarkerStyle.forDriver(R2dbcUrls.driver(r2dbcUrl));
			refuseTetherOnlyPoolOptions(options);
			return builder(ConnectionFactories.get(options)).bindMarkers(markers).closeFactoryOnClose(true).build();
		}
		BindMarkerStyle markers = BindMarkerStyle.forDriver(R2dbcUrls.driver(r2dbcUrl));
		return builder(TetherPool.create(r2dbcUrl)).bindMarkers(markers).closeFactoryOnClose(true).build();
	}

	private static Map<String, String> tetherOnlyPoolOptions() {
		Map<String, String> m = new LinkedHashMap<>();
		for (String name : PoolSettings.NAMES) {
			m.put(name, "");
		}
		for (String shared : List.of("maxSize", "minIdle", "maxIdleTime", "validationQuery")) {
			m.remove(shared);
		}
		m.put("name", "poolName");
		m.put("maxLifetime", "maxLifeTime");
		m.put("acquireTimeout", "maxAcquireTime");
		return Map.copyOf(m);
	}

	private static void refuseTetherOnlyPoolOptions(ConnectionFactoryOptions options) {
		List<String> refused = new ArrayList<>();
		for (String name : PoolSettings.NAMES) {
			String equivalent = TETHER_ONLY_POOL_OPTIONS.get(name);
			if (equivalent != null && options.hasOption(Option.valueOf(name))) {
				refused.add(equivalent.isEmpty() ? name : name + " (r2dbc-pool's is " + equivalent + ")");
			}
		}
		if (!refused.isEmpty()) {
			throw new IllegalArgumentException("An r2dbc:pool: URL configures r2dbc-pool, which does not read "
					+ String.join(", ", refused) + "; use r2dbc-pool's options there, or drop 'pool:' from the URL "
					+ "to get Tether's pool with its settings");
		}
	}

	/**
	 * A database over {@code factory}, typically a pool the application configured itself. The factory is
	 * not closed by {@link #close()}: its owner closes it.
	 */
	public static Database of(ConnectionFactory factory) {
		return builder(factory).build();
	}

	/** A builder for a database over {@code factory}, for the settings {@link #of} leaves at their defaults. */
	public static Builder builder(ConnectionFactory factory) {
		return new Builder(Objects.requireNonNull(factory, "factory must not be null"));
	}

	/** The name used in logs and error messages: the builder's, else the driver's name. */
	public String name() {
		return name;
	}

	/** The factory connections come from. */
	public ConnectionFactory connectionFactory() {
		return factory;
	}

	/**
	 * The {@link ConnectionScope} this database binds connections with, for code written against
	 * {@code reactor-context} directly. Its scopes and this database's are the same scopes.
	 */
	public ConnectionScope scope() {
		return scope;
	}

	// ---------------------------------------------------------------- statements

	/**
	 * A statement of {@code sql}, with {@code :name} parameters. The SQL is parsed at the first subscription
	 * of any statement with this text and the result cached; nothing is sent until a terminal method of the
	 * returned {@link Sql} is subscribed.
	 */
	public Sql sql(String sql) {
		return new Sql(executor, Objects.requireNonNull(sql, "sql must not be null"));
	}

	/**
	 * A batch of one parameterized statement run with several sets of values ({@link Batch#add}), sent in
	 * one round trip where the driver supports it.
	 */
	public Batch batch(String sql) {
		return new Batch(executor, Objects.requireNonNull(sql, "sql must not be null"));
	}

	// ---------------------------------------------------------------- scopes

	/**
	 * Runs {@code body} with one connection bound, acquired on subscribe and released when {@code body}
	 * completes, fails or is cancelled; nested scopes and statements reuse it. If a connection of this
	 * database is already bound, {@code body} runs on it and nothing is acquired or released.
	 * See {@link ConnectionScope#inConnection(Mono)} for the full contract.
	 */
	public <T> Mono<T> inConnection(Mono<T> body) {
		return scope.inConnection(body).onErrorMap(log::translate);
	}

	/** The {@code Flux} flavour of {@link #inConnection(Mono)}. */
	public <T> Flux<T> inConnection(Publisher<? extends T> body) {
		return scope.<T>inConnection(body).onErrorMap(log::translate);
	}

	/**
	 * Like {@link #inConnection(Mono)}, but acquires only when the first statement inside runs; a body that
	 * never touches the database never acquires (one lazily opened connection per HTTP request).
	 * See {@link ConnectionScope#inLazyConnection(Mono)}.
	 */
	public <T> Mono<T> inLazyConnection(Mono<T> body) {
		return scope.inLazyConnection(body).onErrorMap(log::translate);
	}

	/** The {@code Flux} flavour of {@link #inLazyConnection(Mono)}. */
	public <T> Flux<T> inLazyConnection(Publisher<? extends T> body) {
		return scope.<T>inLazyConnection(body).onErrorMap(log::translate);
	}

	/**
	 * Calls {@code fn} with the bound connection, or with one acquired for this call and released when what
	 * {@code fn} returns terminates. See {@link ConnectionScope#withConnection(Function)}.
	 */
	public <T> Mono<T> withConnection(Function<? super Connection, ? extends Mono<? extends T>> fn) {
		return scope.<T>withConnection(fn).onErrorMap(log::translate);
	}

	/** The {@code Flux} flavour of {@link #withConnection(Function)}. */
	public <T> Flux<T> withConnectionMany(Function<? super Connection, ? extends Publisher<? extends T>> fn) {
		return scope.<T>withConnectionMany(fn).onErrorMap(log::translate);
	}

	// ---------------------------------------------------------------- transactions

	/**
	 * Runs {@code body} in a transaction with default options ({@link Propagation#REQUIRED}) and this
	 * database's default {@link RetryPolicy} (none unless the builder set one).
	 *
	 * @see #inTransaction(TransactionOptions, RetryPolicy, Mono)
	 */
	public <T> Mono<T> inTransaction(Mono<T> body) {
		return inTransaction(TransactionOptions.defaults(), defaultRetry, body);
	}

	/** Runs {@code body} in a transaction with {@code options} and the default {@link RetryPolicy}. */
	public <T> Mono<T> inTransaction(TransactionOptions options, Mono<T> body) {
		return inTransaction(options, defaultRetry, body);
	}

	/**
	 * Runs {@code body} in a transaction with {@code options}, retrying the whole transaction as
	 * {@code retry} says when it fails with a retryable error (by default a serialization failure, SQLState
	 * 40001, or a deadlock, 40P01).
	 * <ul>
	 *   <li><b>Which connection:</b> as {@link ConnectionScope#inTransaction(TransactionOptions, Mono)}: the
	 *       bound one, or a new one when nothing is bound or for {@link Propagation#REQUIRES_NEW}.</li>
	 *   <li><b>Complete:</b> commit, then the value. <b>Error:</b> rollback; if the error is retryable and
	 *       this call began the transaction, {@code body} is subscribed again in a new transaction after the
	 *       policy's back-off, up to its limit; the last error is then signalled. A call that joins an outer
	 *       transaction never retries (the outer transaction is already doomed): the outer one may.</li>
	 *   <li><b>Cancel:</b> rollback and release in the background; a pending back-off is cancelled.</li>
	 * </ul>
	 * {@code body} must be cold (it is subscribed once per attempt), and should not have side effects
	 * outside the database that must not repeat.
	 */
	public <T> Mono<T> inTransaction(TransactionOptions options, RetryPolicy retry, Mono<T> body) {
		Objects.requireNonNull(options, "options must not be null");
		Objects.requireNonNull(retry, "retry must not be null");
		Objects.requireNonNull(body, "body must not be null");
		Mono<T> attempt = scope.inTransaction(options, body).onErrorMap(log::translate);
		if (retry.maxRetries() == 0) {
			return attempt;
		}
		if (options.propagation() == Propagation.REQUIRES_NEW) {
			return attempt.retryWhen(retry.toRetry(name));
		}
		return scope.isInTransaction().flatMap(joins -> joins ? attempt : attempt.retryWhen(retry.toRetry(name)));
	}

	/**
	 * Runs {@code body} in a transaction with default options; items are delivered as the body emits them,
	 * before the commit, and completion after it. No retry: items already delivered cannot be taken back
	 * (collect into a {@code Mono} to retry). See {@link ConnectionScope#inTransaction(TransactionOptions, Publisher)}.
	 */
	public <T> Flux<T> inTransaction(Publisher<? extends T> body) {
		return inTransaction(TransactionOptions.defaults(), body);
	}

	/** The {@code Flux} flavour of {@link #inTransaction(TransactionOptions, Mono)}, without retries. */
	public <T> Flux<T> inTransaction(TransactionOptions options, Publisher<? extends T> body) {
		return scope.<T>inTransaction(options, body).onErrorMap(log::translate);
	}

	/** Marks the active transaction rollback-only; see {@link ConnectionScope#setRollbackOnly()}. */
	public Mono<Void> setRollbackOnly() {
		return scope.setRollbackOnly();
	}

	/** Whether a transaction of this database is active in the Context. */
	public Mono<Boolean> isInTransaction() {
		return scope.isInTransaction();
	}

	// ---------------------------------------------------------------- lifecycle

	/**
	 * Closes this database without blocking: statements subscribed afterwards fail with
	 * {@link NonTransientConnectionException}; a pool this database created ({@link #connect}) is closed, one it was
	 * given is left to its owner. Cold and idempotent: only the first subscription closes anything.
	 */
	public Mono<Void> closeLater() {
		return Mono.defer(() -> {
			if (!closed.compareAndSet(false, true) || owned == null) {
				return Mono.empty();
			}
			if (owned instanceof TetherPool pool) {
				return pool.closeLater();
			}
			if (owned instanceof io.r2dbc.spi.Closeable closeable) {
				return Mono.from(closeable.close());
			}
			if (owned instanceof Disposable disposable) {
				return Mono.fromRunnable(disposable::dispose);
			}
			return Mono.empty();
		});
	}

	/**
	 * Closes this database and waits until a pool it created has closed, for {@code try}-with-resources and
	 * application shutdown. Must not be called on a non-blocking thread (an event loop): use
	 * {@link #closeLater()} there.
	 *
	 * @throws IllegalStateException on a non-blocking thread
	 */
	@Override
	public void close() {
		if (Schedulers.isInNonBlockingThread()) {
			throw new IllegalStateException("Database.close() would block the non-blocking thread "
					+ Thread.currentThread().getName() + "; subscribe to closeLater() instead");
		}
		closeLater().toFuture().join();
	}

	/** Whether {@link #close()} or {@link #closeLater()} has been called. */
	public boolean isClosed() {
		return closed.get();
	}

	@Override
	public String toString() {
		return "Database[" + name + "]";
	}

	/**
	 * Settings of a {@link Database}. Defaults: bind markers chosen from the driver name, slow-statement
	 * warning at 1 second, bind values neither logged nor in error messages, no transaction retries, factory not closed.
	 *
	 * @since 0.1
	 */
	public static final class Builder {

		private final ConnectionFactory factory;
		private @Nullable String name;
		private @Nullable BindMarkerStyle bindMarkers;
		private Duration slowStatementThreshold = Duration.ofSeconds(1);
		private boolean logBindValues;
		private boolean bindValuesInErrors;
		private RetryPolicy retryPolicy = RetryPolicy.none();
		private boolean closeFactoryOnClose;
		private boolean serverErrorDetail;
		private int maxBindParameters;
		/** The scope settings; the name is set when the database is built. */
		private final ConnectionScope.Builder scope;

		private Builder(ConnectionFactory factory) {
			this.factory = factory;
			this.scope = ConnectionScope.builder(factory);
		}

		/** The name used in logs and errors; defaults to the driver's name. */
		public Builder name(String name) {
			Objects.requireNonNull(name, "name must not be null");
			if (name.isBlank()) {
				throw new IllegalArgumentException("name must not be blank");
			}
			this.name = name;
			return this;
		}

		/**
		 * The bind-marker syntax that {@code :name} parameters are rewritten to. Defaults to the one the
		 * driver named by the factory's metadata expects; needed only for drivers Tether does not know.
		 */
		public Builder bindMarkers(BindMarkerStyle style) {
			this.bindMarkers = Objects.requireNonNull(style, "style must not be null");
			return this;
		}

		/**
		 * Statements that take longer than this, from subscription to termination, are logged at WARN on
		 * logger {@code io.tether.sql}. {@link Duration#ZERO} turns the warning off. Default 1 second.
		 */
		public Builder slowStatementThreshold(Duration threshold) {
			Objects.requireNonNull(threshold, "threshold must not be null");
			if (threshold.isNegative()) {
				throw new IllegalArgumentException("slowStatementThreshold must be >= 0, was " + threshold);
			}
			this.slowStatementThreshold = threshold;
			return this;
		}

		/**
		 * How long each cleanup step after an error or a cancel may take (the drain of a statement the server
		 * was still answering, a rollback, the restore of session state, the release) before the physical
		 * connection is destroyed instead of waited for. Default 10 seconds. See
		 * {@link ConnectionScope.Builder#cleanupTimeout(Duration)}.
		 */
		public Builder cleanupTimeout(Duration timeout) {
			scope.cleanupTimeout(timeout);
			return this;
		}

		/**
		 * How long the rest of a cancelled statement's result is read and discarded before the server is asked to
		 * cancel the statement (PostgreSQL, outside a transaction); default 5 milliseconds. See
		 * {@link ConnectionScope.Builder#drainBudget(Duration)}.
		 */
		public Builder drainBudget(Duration budget) {
			scope.drainBudget(budget);
			return this;
		}

		/**
		 * Whether DEBUG and slow-statement logs include bind values. Off by default: values may be personal
		 * data or secrets. Error messages never include them.
		 */
		public Builder logBindValues(boolean logBindValues) {
			this.logBindValues = logBindValues;
			return this;
		}

		/**
		 * Whether the message of a statement's {@link DataAccessException} ends with its bind values. Off by
		 * default, for the same reason as {@link #logBindValues}; for a batch, the values of its first set.
		 */
		public Builder bindValuesInErrors(boolean bindValuesInErrors) {
			this.bindValuesInErrors = bindValuesInErrors;
			return this;
		}

		/**
		 * Whether error messages keep the values the database quotes from the statement's input, as in
		 * PostgreSQL's {@code invalid input syntax for type integer: "<value>"} (SQLState {@code 22P02}) or
		 * MariaDB's {@code Duplicate entry '<value>'}. Off by default, on every driver: quoted parts of data
		 * exceptions (SQLState class {@code 22}) and single-quoted parts of constraint violations (class
		 * {@code 23}) read {@code "?"}, and where that changed a message, the driver's exception in the cause chain is
		 * replaced by a copy with the same class name, redacted message and stack trace, so that logging the
		 * exception does not print the values either. Turn it on (like pgjdbc's {@code logServerErrorDetail}) to
		 * see the values, at the price of user data in messages and logs, and to keep the driver's own exception
		 * as the cause.
		 */
		public Builder serverErrorDetail(boolean serverErrorDetail) {
			this.serverErrorDetail = serverErrorDetail;
			return this;
		}

		/**
		 * How long {@link Propagation#REQUIRES_NEW} waits for its second connection while the pipeline already
		 * holds one, before failing with {@link io.tether.context.ConnectionUnavailableException}; default 10
		 * seconds. See {@link ConnectionScope.Builder#requiresNewAcquireTimeout}.
		 */
		public Builder requiresNewAcquireTimeout(Duration timeout) {
			scope.requiresNewAcquireTimeout(timeout);
			return this;
		}

		/**
		 * The scheduler of the database's timers (the {@link #requiresNewAcquireTimeout} wait and the
		 * {@link #cleanupTimeout} bounds); default
		 * {@link Schedulers#parallel()}; a virtual-time scheduler in tests. The same name as the pool's
		 * {@code PoolSettings.Builder#scheduler}.
		 */
		public Builder scheduler(Scheduler scheduler) {
			scope.scheduler(scheduler);
			return this;
		}

		/**
		 * The most bind values one statement may carry; a statement whose collection parameters expand past it
		 * fails with a {@link ParameterException} before anything is sent. Defaults to the driver's limit
		 * (PostgreSQL, MariaDB 65,535; H2 100,000; SQL Server 2,100; none for other drivers).
		 */
		public Builder maxBindParameters(int max) {
			if (max < 1) {
				throw new IllegalArgumentException("maxBindParameters must be >= 1, was " + max);
			}
			this.maxBindParameters = max;
			return this;
		}

		/** The policy of {@link Database#inTransaction(Mono)} and of the overloads without one; default none. */
		public Builder retryPolicy(RetryPolicy retryPolicy) {
			this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy must not be null");
			return this;
		}

		/**
		 * Whether {@link Database#close()} also closes the factory (a {@link TetherPool}, an R2DBC
		 * {@link io.r2dbc.spi.Closeable} or a Reactor {@link Disposable}). Default {@code false}; true for
		 * {@link Database#connect}.
		 */
		public Builder closeFactoryOnClose(boolean closeFactoryOnClose) {
			this.closeFactoryOnClose = closeFactoryOnClose;
			return this;
		}

		/**
		 * The database.
		 *
		 * @throws IllegalArgumentException if no bind-marker style was set and the driver is not one Tether knows
		 */
		public Database build() {
			return new Database(this);
		}
	}
}
