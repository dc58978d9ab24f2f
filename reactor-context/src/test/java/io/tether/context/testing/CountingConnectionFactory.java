package io.tether.context.testing;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * Wraps a factory (typically a pool) and counts what passes through: subscriptions to {@code create()},
 * connections handed out, {@code close()} calls (a second close of the same connection is counted apart,
 * as a double release), and every SQL statement with the connection that ran it. Hooks let a test hold
 * an acquisition, a {@code BEGIN} or a {@code COMMIT} until it says so, to cancel at that exact stage.
 */
public final class CountingConnectionFactory implements ConnectionFactory, Wrapped<ConnectionFactory> {

	private final ConnectionFactory delegate;
	private final AtomicInteger createSubscriptions = new AtomicInteger();
	private final AtomicInteger acquired = new AtomicInteger();
	private final AtomicInteger released = new AtomicInteger();
	private final AtomicInteger doubleReleases = new AtomicInteger();
	private final AtomicInteger ids = new AtomicInteger();
	private final AtomicLong rowsRead = new AtomicLong();
	private final Queue<Executed> statements = new ConcurrentLinkedQueue<>();
	private final List<CountingConnection> connections = new CopyOnWriteArrayList<>();

	private volatile Supplier<Mono<Void>> beforeAcquire = Mono::empty;
	private volatile Supplier<Mono<Void>> beforeBegin = Mono::empty;
	private volatile Supplier<Mono<Void>> beforeCommit = Mono::empty;
	private volatile Supplier<Mono<Void>> beforeRollback = Mono::empty;
	private volatile Consumer<ContextView> onExecute = ctx -> {
	};

	public CountingConnectionFactory(ConnectionFactory delegate) {
		this.delegate = delegate;
	}

	/** A statement as it was run: the SQL and the id of the connection (1, 2, ... in order of acquisition). */
	public record Executed(int connectionId, String sql) {
	}

	@Override
	public Publisher<? extends Connection> create() {
		return Mono.defer(() -> {
			createSubscriptions.incrementAndGet();
			return beforeAcquire.get().then(Mono.from(delegate.create())).map(c -> {
				acquired.incrementAndGet();
				CountingConnection cc = new CountingConnection(c, ids.incrementAndGet());
				connections.add(cc);
				return cc;
			});
		});
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return delegate.getMetadata();
	}

	@Override
	public ConnectionFactory unwrap() {
		return delegate;
	}

	public int createSubscriptions() {
		return createSubscriptions.get();
	}

	public int acquired() {
		return acquired.get();
	}

	public int released() {
		return released.get();
	}

	public int doubleReleases() {
		return doubleReleases.get();
	}

	/** Connections acquired and not yet released. */
	public int open() {
		return acquired.get() - released.get();
	}

	/**
	 * Rows the driver handed over through the results of statements ({@code map} and {@code flatMap} of a
	 * {@link io.r2dbc.spi.Result}), whoever read them: the application, or Tether draining a cancelled result.
	 */
	public long rowsRead() {
		return rowsRead.get();
	}

	public List<Executed> statements() {
		return List.copyOf(statements);
	}

	/** Ids of the connections that ran statements whose SQL contains {@code marker}. */
	public List<Integer> connectionsRunning(String marker) {
		return statements.stream().filter(e -> e.sql().contains(marker)).map(Executed::connectionId).distinct().toList();
	}

	/** Runs {@code hook} before every acquisition reaches the delegate (e.g. a never-completing Mono). */
	public void beforeAcquire(Supplier<Mono<Void>> hook) {
		this.beforeAcquire = hook;
	}

	public void beforeBegin(Supplier<Mono<Void>> hook) {
		this.beforeBegin = hook;
	}

	public void beforeCommit(Supplier<Mono<Void>> hook) {
		this.beforeCommit = hook;
	}

	public void beforeRollback(Supplier<Mono<Void>> hook) {
		this.beforeRollback = hook;
	}

	/**
	 * Runs {@code hook}, with the subscriber's Context, when the driver's {@code execute()} publisher is
	 * subscribed (the query is on its way).
	 */
	public void onExecute(Consumer<ContextView> hook) {
		this.onExecute = hook;
	}

	/** What the connections saw in order: BEGIN, COMMIT, ROLLBACK, SAVEPOINT ..., and SQL text. */
	public List<String> commands() {
		return connections.stream().flatMap(c -> c.commands.stream()).toList();
	}

	final class CountingConnection implements Connection, Wrapped<Connection> {

		private final Connection delegate;
		private final int id;
		private final AtomicBoolean closed = new AtomicBoolean();
		final Queue<String> commands = new ConcurrentLinkedQueue<>();

		CountingConnection(Connection delegate, int id) {
			this.delegate = delegate;
			this.id = id;
		}

		private Publisher<Void> log(String command, Publisher<Void> p) {
			return Mono.fromRunnable(() -> commands.add(id + ":" + command)).then(Mono.from(p));
		}

		@Override
		public Publisher<Void> close() {
			return Mono.defer(() -> {
				if (!closed.compareAndSet(false, true)) {
					doubleReleases.incrementAndGet();
					return Mono.empty();
				}
				// Counted when the close terminates, before that is signalled on: a scope that signals its
				// downstream only after the release can then be checked exactly, with no waiting.
				return Mono.from(delegate.close()).doOnTerminate(released::incrementAndGet);
			});
		}

		@Override
		public Publisher<Void> beginTransaction() {
			return beforeBegin.get().then(Mono.from(log("BEGIN", delegate.beginTransaction())));
		}

		@Override
		public Publisher<Void> beginTransaction(TransactionDefinition definition) {
			return beforeBegin.get().then(Mono.from(log("BEGIN " + definition, delegate.beginTransaction(definition))));
		}

		@Override
		public Publisher<Void> commitTransaction() {
			return beforeCommit.get().then(Mono.from(log("COMMIT", delegate.commitTransaction())));
		}

		@Override
		public Publisher<Void> rollbackTransaction() {
			return beforeRollback.get().then(Mono.from(log("ROLLBACK", delegate.rollbackTransaction())));
		}

		@Override
		public Batch createBatch() {
			Batch b = delegate.createBatch();
			return new Batch() {
				@Override
				public Batch add(String sql) {
					statements.add(new Executed(id, sql));
					b.add(sql);
					return this;
				}

				@Override
				public Publisher<? extends io.r2dbc.spi.Result> execute() {
					return b.execute();
				}
			};
		}

		@Override
		public Publisher<Void> createSavepoint(String name) {
			return log("SAVEPOINT " + name, delegate.createSavepoint(name));
		}

		@Override
		public Statement createStatement(String sql) {
			statements.add(new Executed(id, sql));
			commands.add(id + ":" + sql);
			return new HookedStatement(delegate.createStatement(sql));
		}

		@Override
		public boolean isAutoCommit() {
			return delegate.isAutoCommit();
		}

		@Override
		public ConnectionMetadata getMetadata() {
			return delegate.getMetadata();
		}

		@Override
		public IsolationLevel getTransactionIsolationLevel() {
			return delegate.getTransactionIsolationLevel();
		}

		@Override
		public Publisher<Void> releaseSavepoint(String name) {
			return log("RELEASE " + name, delegate.releaseSavepoint(name));
		}

		@Override
		public Publisher<Void> rollbackTransactionToSavepoint(String name) {
			return log("ROLLBACK TO " + name, delegate.rollbackTransactionToSavepoint(name));
		}

		@Override
		public Publisher<Void> setAutoCommit(boolean autoCommit) {
			return log("AUTOCOMMIT " + autoCommit, delegate.setAutoCommit(autoCommit));
		}

		@Override
		public Publisher<Void> setLockWaitTimeout(Duration timeout) {
			return delegate.setLockWaitTimeout(timeout);
		}

		@Override
		public Publisher<Void> setStatementTimeout(Duration timeout) {
			return log("STATEMENT TIMEOUT " + timeout.toMillis(), delegate.setStatementTimeout(timeout));
		}

		@Override
		public Publisher<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
			return log("ISOLATION " + isolationLevel.asSql(), delegate.setTransactionIsolationLevel(isolationLevel));
		}

		@Override
		public Publisher<Boolean> validate(ValidationDepth depth) {
			return delegate.validate(depth);
		}

		@Override
		public Connection unwrap() {
			return delegate;
		}

		@Override
		public String toString() {
			return "CountingConnection#" + id;
		}
	}

	/** Runs a statement and collects its rows' first column as {@code type}; a convenience for tests. */
	public static <T> Flux<T> query(Connection c, String sql, Class<T> type) {
		return Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.map((row, md) -> row.get(0, type)));
	}

	/** Runs an update and returns the rows updated; a convenience for tests. */
	public static Mono<Long> update(Connection c, String sql) {
		return Flux.from(c.createStatement(sql).execute()).flatMap(r -> Mono.from(r.getRowsUpdated())).reduce(0L, Long::sum);
	}

	/** Forwards, and runs the {@link #onExecute} hook once the driver's execution is subscribed. */
	private final class HookedStatement implements Statement, Wrapped<Statement> {

		private final Statement delegate;

		HookedStatement(Statement delegate) {
			this.delegate = delegate;
		}

		@Override
		public Statement add() {
			delegate.add();
			return this;
		}

		@Override
		public Statement bind(int index, Object value) {
			delegate.bind(index, value);
			return this;
		}

		@Override
		public Statement bind(String name, Object value) {
			delegate.bind(name, value);
			return this;
		}

		@Override
		public Statement bindNull(int index, Class<?> type) {
			delegate.bindNull(index, type);
			return this;
		}

		@Override
		public Statement bindNull(String name, Class<?> type) {
			delegate.bindNull(name, type);
			return this;
		}

		@Override
		public Statement returnGeneratedValues(String... columns) {
			delegate.returnGeneratedValues(columns);
			return this;
		}

		@Override
		public Statement fetchSize(int rows) {
			delegate.fetchSize(rows);
			return this;
		}

		@Override
		public Publisher<? extends io.r2dbc.spi.Result> execute() {
			Consumer<ContextView> hook = onExecute;
			return Flux.deferContextual(ctx -> Flux.from(delegate.execute()).doOnSubscribe(s -> hook.accept(ctx)))
					.map(CountingResult::new);
		}

		@Override
		public Statement unwrap() {
			return delegate;
		}
	}

	/** Counts the rows read from a result, by whichever of its methods. */
	private final class CountingResult implements io.r2dbc.spi.Result, Wrapped<io.r2dbc.spi.Result> {

		private final io.r2dbc.spi.Result delegate;

		CountingResult(io.r2dbc.spi.Result delegate) {
			this.delegate = delegate;
		}

		@Override
		public Publisher<Long> getRowsUpdated() {
			return delegate.getRowsUpdated();
		}

		@Override
		public <T> Publisher<T> map(BiFunction<io.r2dbc.spi.Row, io.r2dbc.spi.RowMetadata, ? extends T> mappingFunction) {
			return delegate.map((row, metadata) -> {
				rowsRead.incrementAndGet();
				return mappingFunction.apply(row, metadata);
			});
		}

		@Override
		public <T> Publisher<T> map(Function<? super io.r2dbc.spi.Readable, ? extends T> mappingFunction) {
			return delegate.map(readable -> {
				if (readable instanceof io.r2dbc.spi.Row) {
					rowsRead.incrementAndGet();
				}
				return mappingFunction.apply(readable);
			});
		}

		@Override
		public io.r2dbc.spi.Result filter(Predicate<io.r2dbc.spi.Result.Segment> filter) {
			return new CountingResult(delegate.filter(filter));
		}

		@Override
		public <T> Publisher<T> flatMap(Function<io.r2dbc.spi.Result.Segment, ? extends Publisher<? extends T>> mappingFunction) {
			return delegate.flatMap(segment -> {
				if (segment instanceof io.r2dbc.spi.Result.RowSegment) {
					rowsRead.incrementAndGet();
				}
				return mappingFunction.apply(segment);
			});
		}

		@Override
		public io.r2dbc.spi.Result unwrap() {
			return delegate;
		}
	}
}
