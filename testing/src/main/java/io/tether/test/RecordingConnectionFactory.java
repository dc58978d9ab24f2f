package io.tether.test;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Lifecycle;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import io.tether.test.RecordedEvent.Kind;
import io.tether.test.internal.Marks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@link ConnectionFactory} that records what passes through it, for tests: put it in front of any factory
 * (a pool, or a driver's factory) and build the {@code Database} under test over it.
 *
 * <pre>{@code
 * RecordingConnectionFactory recorder = RecordingConnectionFactory.wrap(pool);
 * Database db = Database.of(recorder);
 * // ... run the code under test ...
 * assertThat(recorder.acquisitions()).isEqualTo(1);
 * TetherAssertions.assertThat(recorder).isFullyReleased().hasNoOpenTransaction();
 * }</pre>
 *
 * <p>What it records, since creation or the last {@link #reset()}:
 * <ul>
 *   <li><b>Acquisitions and releases:</b> every connection {@code create()} hands out, with an id (1, 2, ...),
 *       and, unless turned off, the stack of the code that subscribed to {@code create()} (see
 *       {@link RecordedConnection#acquisitionSite()}); every completed {@code close()}. A second {@code close()}
 *       of the same connection is counted as a double release and not passed on, so that a bug in the code
 *       under test cannot corrupt the pool behind.</li>
 *   <li><b>Transactions:</b> begin, commit, rollback and savepoints, counted when they complete.</li>
 *   <li><b>Statements:</b> the SQL of every statement and batch when its {@code execute()} publisher is
 *       subscribed, the connection it ran on, and whether it ran inside a transaction.</li>
 *   <li><b>Where the Context came from:</b> whether the subscription to {@code create()} carried a mark of
 *       {@link Rollback} or of a {@link PipelineProbe} in its Reactor Context; a connection acquired without one
 *       while a probe was running is attributed to that probe as acquired outside its scope.</li>
 * </ul>
 *
 * <p>Connections are wrapped; the wrappers pass every call to the delegate's connection unchanged (also
 * {@link Lifecycle} calls, so the recorder may sit below a pool) and implement {@link Wrapped}.
 * Thread-safe. {@link #reset()} is meant for the moments between tests, when nothing is running.
 *
 * @since 0.1
 */
public final class RecordingConnectionFactory implements ConnectionFactory, Wrapped<ConnectionFactory> {

	private final ConnectionFactory delegate;
	private final boolean captureSites;
	private final AtomicInteger ids = new AtomicInteger();
	private final AtomicInteger createSubscriptions = new AtomicInteger();
	private final AtomicInteger acquisitionsInFlight = new AtomicInteger();
	private final AtomicInteger releases = new AtomicInteger();
	private final AtomicInteger doubleReleases = new AtomicInteger();
	private final List<RecordedConnection> connections = new CopyOnWriteArrayList<>();
	private final Queue<RecordedEvent> events = new ConcurrentLinkedQueue<>();
	private final Queue<RecordedStatement> statements = new ConcurrentLinkedQueue<>();
	private final List<PipelineProbe> probes = new CopyOnWriteArrayList<>();

	private RecordingConnectionFactory(ConnectionFactory delegate, boolean captureSites) {
		this.delegate = delegate;
		this.captureSites = captureSites;
	}

	/** Records what passes through to {@code delegate}, capturing the stack of every acquisition. */
	public static RecordingConnectionFactory wrap(ConnectionFactory delegate) {
		return wrap(delegate, true);
	}

	/**
	 * Records what passes through to {@code delegate}; {@code captureAcquisitionSites} says whether the stack of
	 * every subscription to {@code create()} is captured (costs a few microseconds per acquisition).
	 */
	public static RecordingConnectionFactory wrap(ConnectionFactory delegate, boolean captureAcquisitionSites) {
		return new RecordingConnectionFactory(Objects.requireNonNull(delegate, "delegate must not be null"),
				captureAcquisitionSites);
	}

	/**
	 * Acquires a connection of the delegate and wraps it. Cold: each subscription is one acquisition of the
	 * delegate, recorded when the connection arrives. Complete, error and cancel are the delegate's.
	 */
	@Override
	public Mono<Connection> create() {
		return Mono.deferContextual(ctx -> {
			createSubscriptions.incrementAndGet();
			acquisitionsInFlight.incrementAndGet();
			Marks marks = Marks.of(ctx);
			String thread = Thread.currentThread().getName();
			Throwable site = captureSites ? new AcquisitionSite(thread) : null;
			List<PipelineProbe> running = marks.isMarked() ? List.of() : runningProbes();
			return Mono.from(delegate.create()).map(c -> {
				RecordedConnection rc = new RecordedConnection(ids.incrementAndGet(), site, thread, marks, running);
				connections.add(rc);
				events.add(new RecordedEvent(rc.id(), Kind.ACQUIRE, ""));
				RecordingConnection wrapper = new RecordingConnection(c, rc);
				rc.connection = wrapper;
				return wrapper;
			}).doFinally(signal -> acquisitionsInFlight.decrementAndGet());
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

	/**
	 * A new probe: wrap one pipeline in it, run it, and assert on what that pipeline (and only it) acquired and
	 * ran, with {@link TetherAssertions#assertThat(PipelineProbe)}.
	 */
	public PipelineProbe probe() {
		PipelineProbe probe = new PipelineProbe(this, probes.size() + 1);
		probes.add(probe);
		return probe;
	}

	private List<PipelineProbe> runningProbes() {
		List<PipelineProbe> running = new ArrayList<>();
		for (PipelineProbe p : probes) {
			if (p.isRunning()) {
				running.add(p);
			}
		}
		return running;
	}

	/** Subscriptions to {@code create()} (some may have been cancelled or failed before a connection came). */
	public int createSubscriptions() {
		return createSubscriptions.get();
	}

	/**
	 * Subscriptions to {@code create()} that have neither got a connection nor failed nor been cancelled yet: an
	 * acquisition still waiting for the pool or for a new connection. Not cleared by {@link #reset()}.
	 */
	public int acquisitionsInFlight() {
		return acquisitionsInFlight.get();
	}

	/** Connections handed out. */
	public int acquisitions() {
		return connections.size();
	}

	/** Connections released (first {@code close()} completed). */
	public int releases() {
		return releases.get();
	}

	/** {@code close()} calls on connections already closed. */
	public int doubleReleases() {
		return doubleReleases.get();
	}

	/** Every connection handed out, in order of acquisition. */
	public List<RecordedConnection> connections() {
		return List.copyOf(connections);
	}

	/** Connections handed out and not released. */
	public List<RecordedConnection> acquiredConnections() {
		return connections.stream().filter(c -> !c.isReleased()).toList();
	}

	/** Connections, released or not, on which a transaction is open. */
	public List<RecordedConnection> connectionsWithOpenTransaction() {
		return connections.stream().filter(RecordedConnection::isTransactionOpen).toList();
	}

	/** Connections acquired outside any pipeline handed to the kit (see {@link RecordedConnection#acquiredInKitPipeline()}). */
	public List<RecordedConnection> connectionsAcquiredOutsideKitPipelines() {
		return connections.stream().filter(c -> !c.acquiredInKitPipeline()).toList();
	}

	/** The connection with id {@code id}. */
	public RecordedConnection connection(int id) {
		for (RecordedConnection c : connections) {
			if (c.id() == id) {
				return c;
			}
		}
		throw new IllegalArgumentException("No connection #" + id + " was recorded; recorded: 1.." + connections.size());
	}

	/** Every statement and batch statement run, in order. */
	public List<RecordedStatement> statements() {
		return List.copyOf(statements);
	}

	/** Everything that happened, in order. */
	public List<RecordedEvent> events() {
		return List.copyOf(events);
	}

	/** Transactions begun. */
	public int transactionsBegun() {
		return count(Kind.BEGIN);
	}

	/** Transactions committed. */
	public int commits() {
		return count(Kind.COMMIT);
	}

	/** Transactions rolled back (rollbacks to a savepoint are not counted). */
	public int rollbacks() {
		return count(Kind.ROLLBACK);
	}

	private int count(Kind kind) {
		return (int) events.stream().filter(e -> e.kind() == kind).count();
	}

	/**
	 * Forgets everything recorded: counts, connections, statements, events and probes. Ids start again at 1.
	 * Connections handed out before keep working, but are no longer tracked.
	 */
	public void reset() {
		connections.clear();
		events.clear();
		statements.clear();
		probes.clear();
		ids.set(0);
		createSubscriptions.set(0);
		releases.set(0);
		doubleReleases.set(0);
	}

	@Override
	public String toString() {
		return "RecordingConnectionFactory[acquired=" + acquisitions() + ", released=" + releases()
				+ ", doubleReleases=" + doubleReleases() + ", statements=" + statements.size() + ", delegate=" + delegate + "]";
	}

	/** The stack of a subscription to {@code create()}; never thrown. */
	static final class AcquisitionSite extends Throwable {

		private static final long serialVersionUID = 1L;

		AcquisitionSite(String thread) {
			super("create() subscribed here, on thread " + thread, null, false, true);
		}
	}

	private final class RecordingConnection implements Connection, Lifecycle, Wrapped<Connection> {

		private final Connection delegate;
		private final RecordedConnection rc;

		RecordingConnection(Connection delegate, RecordedConnection rc) {
			this.delegate = delegate;
			this.rc = rc;
		}

		private void event(Kind kind, String detail) {
			events.add(new RecordedEvent(rc.id(), kind, detail));
		}

		private boolean inTransaction() {
			return rc.transactionOpen || !delegate.isAutoCommit();
		}

		void ran(String sql) {
			boolean inTransaction = inTransaction();
			if (!rc.transactionOpen && rc.autoCommitOff) {
				rc.implicitTransactionOpen = true;
			}
			statements.add(new RecordedStatement(rc.id(), sql, inTransaction));
			event(Kind.STATEMENT, sql);
		}

		private void ended() {
			rc.transactionOpen = false;
			rc.implicitTransactionOpen = false;
		}

		@Override
		public Publisher<Void> close() {
			return Mono.defer(() -> {
				if (!rc.released.compareAndSet(false, true)) {
					doubleReleases.incrementAndGet();
					event(Kind.DOUBLE_RELEASE, "");
					return Mono.empty();
				}
				// Counted when the close terminates and before that is signalled on, so that a scope which
				// signals its own subscriber only after its release can be checked right after, with no wait.
				return Mono.from(delegate.close()).doOnTerminate(this::countRelease).doOnCancel(this::countRelease);
			});
		}

		private void countRelease() {
			releases.incrementAndGet();
			event(Kind.RELEASE, "");
		}

		@Override
		public Publisher<Void> beginTransaction() {
			return Mono.from(delegate.beginTransaction()).doOnSuccess(v -> {
				rc.transactionOpen = true;
				event(Kind.BEGIN, "");
			});
		}

		@Override
		public Publisher<Void> beginTransaction(TransactionDefinition definition) {
			return Mono.from(delegate.beginTransaction(definition)).doOnSuccess(v -> {
				rc.transactionOpen = true;
				event(Kind.BEGIN, "");
			});
		}

		@Override
		public Publisher<Void> commitTransaction() {
			// A failed COMMIT ends the transaction too (the database rolls it back).
			return Mono.from(delegate.commitTransaction())
					.doOnSuccess(v -> event(Kind.COMMIT, ""))
					.doOnTerminate(this::ended);
		}

		@Override
		public Publisher<Void> rollbackTransaction() {
			return Mono.from(delegate.rollbackTransaction())
					.doOnSuccess(v -> event(Kind.ROLLBACK, ""))
					.doOnTerminate(this::ended);
		}

		@Override
		public Publisher<Void> createSavepoint(String name) {
			return Mono.from(delegate.createSavepoint(name)).doOnSuccess(v -> {
				// R2DBC: a savepoint outside a transaction begins one.
				rc.transactionOpen = true;
				event(Kind.SAVEPOINT, name);
			});
		}

		@Override
		public Publisher<Void> releaseSavepoint(String name) {
			return Mono.from(delegate.releaseSavepoint(name)).doOnSuccess(v -> event(Kind.RELEASE_SAVEPOINT, name));
		}

		@Override
		public Publisher<Void> rollbackTransactionToSavepoint(String name) {
			return Mono.from(delegate.rollbackTransactionToSavepoint(name))
					.doOnSuccess(v -> event(Kind.ROLLBACK_TO_SAVEPOINT, name));
		}

		@Override
		public Publisher<Void> setAutoCommit(boolean autoCommit) {
			return Mono.from(delegate.setAutoCommit(autoCommit)).doOnSuccess(v -> {
				rc.autoCommitOff = !autoCommit;
				if (autoCommit) {
					// Turning auto-commit on commits what was open.
					ended();
				}
			});
		}

		@Override
		public Statement createStatement(String sql) {
			return new RecordingStatement(delegate.createStatement(sql), sql, this);
		}

		@Override
		public Batch createBatch() {
			return new RecordingBatch(delegate.createBatch(), this);
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
		public Publisher<Void> setLockWaitTimeout(Duration timeout) {
			return delegate.setLockWaitTimeout(timeout);
		}

		@Override
		public Publisher<Void> setStatementTimeout(Duration timeout) {
			return delegate.setStatementTimeout(timeout);
		}

		@Override
		public Publisher<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
			return delegate.setTransactionIsolationLevel(isolationLevel);
		}

		@Override
		public Publisher<Boolean> validate(ValidationDepth depth) {
			return delegate.validate(depth);
		}

		@Override
		public Publisher<Void> postAllocate() {
			return delegate instanceof Lifecycle l ? l.postAllocate() : Mono.empty();
		}

		@Override
		public Publisher<Void> preRelease() {
			return delegate instanceof Lifecycle l ? l.preRelease() : Mono.empty();
		}

		@Override
		public Connection unwrap() {
			return delegate;
		}

		@Override
		public String toString() {
			return "RecordingConnection#" + rc.id() + "[" + delegate + "]";
		}
	}

	private static final class RecordingStatement implements Statement, Wrapped<Statement> {

		private final Statement delegate;
		private final String sql;
		private final RecordingConnection connection;

		RecordingStatement(Statement delegate, String sql, RecordingConnection connection) {
			this.delegate = delegate;
			this.sql = sql;
			this.connection = connection;
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
		public Publisher<? extends Result> execute() {
			Publisher<? extends Result> results = delegate.execute();
			return Flux.<Result>from(results).doOnSubscribe(s -> connection.ran(sql));
		}

		@Override
		public Statement unwrap() {
			return delegate;
		}
	}

	private static final class RecordingBatch implements Batch, Wrapped<Batch> {

		private final Batch delegate;
		private final RecordingConnection connection;
		private final List<String> sql = new ArrayList<>();

		RecordingBatch(Batch delegate, RecordingConnection connection) {
			this.delegate = delegate;
			this.connection = connection;
		}

		@Override
		public Batch add(String statement) {
			delegate.add(statement);
			sql.add(statement);
			return this;
		}

		@Override
		public Publisher<? extends Result> execute() {
			Publisher<? extends Result> results = delegate.execute();
			List<String> ran = List.copyOf(sql);
			return Flux.<Result>from(results).doOnSubscribe(s -> ran.forEach(connection::ran));
		}

		@Override
		public Batch unwrap() {
			return delegate;
		}
	}
}
