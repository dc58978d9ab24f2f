package io.tether.context;

import static io.tether.context.TransactionContract.TIMEOUT;
import static io.tether.context.TransactionContract.await;
import static io.tether.context.TransactionContract.txCommands;
import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.tether.context.TransactionContract.Hold;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Database;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.pool.InstrumentedPool;
import reactor.pool.PoolBuilder;
import reactor.pool.PooledRef;
import reactor.test.subscriber.TestSubscriber;

/**
 * The spring-framework #36344 scenario on a real server: a transaction cancelled at any stage must not
 * return its connection to the pool with a transaction still open. With a pool of one connection, each
 * test cancels a transaction at one stage, then proves from the server's side that the connection is idle
 * (not "idle in transaction") and that the next borrower's auto-commit insert is visible elsewhere.
 *
 * <p>Every scenario runs on two pools: r2dbc-pool, which rolls back on close by itself when it saw a
 * {@code beginTransaction}, and a bare reactor-pool that does nothing on release, so that Tether's own
 * cleanup is what is being tested. On both, every BEGIN that Tether sent must be ended by a COMMIT or
 * ROLLBACK that Tether sent.
 */
class PostgresTransactionSafetyIT {

	enum PoolKind {
		/** r2dbc-pool 1.0.2: has its own rollback-on-close safety net. */
		R2DBC_POOL,
		/** reactor-pool without any cleanup on release: only Tether can leave the connection clean. */
		BARE_REACTOR_POOL
	}

	/** Clause 10: cancel right after subscribe: the connection comes back without a transaction. */
	@ParameterizedTest
	@EnumSource(PoolKind.class)
	void cancelRightAfterSubscribe(PoolKind kind) {
		try (Fixture f = new Fixture(kind)) {
			TestSubscriber<Long> ts = TestSubscriber.create();
			f.scope.inTransaction(f.insert(1)).subscribe(ts);
			ts.cancel();
			await(() -> f.counting.acquired() == f.counting.createSubscriptions(), "the cancelled scope's connection arrived");
			f.assertNoTransactionLeftOpen();
			assertThat(ts.isTerminated()).isFalse();
			// On a fast machine the whole transaction can reach COMMIT before cancel() runs; a cancel during
			// COMMIT lets it finish (clause 3). Either way the outcome is all or nothing, never left open.
			boolean committed = f.counting.commands().stream().anyMatch(c -> c.endsWith(":COMMIT"));
			assertThat(f.ids(1, 1)).as("row present exactly when COMMIT was sent before the cancel; commands %s",
					f.counting.commands()).isEqualTo(committed ? 1 : 0);
		}
	}

	/** Clause 10: cancel while BEGIN is held: BEGIN finishes, ROLLBACK, the connection comes back clean. */
	@ParameterizedTest
	@EnumSource(PoolKind.class)
	void cancelDuringBegin(PoolKind kind) {
		try (Fixture f = new Fixture(kind)) {
			Hold begin = new Hold();
			f.counting.beforeBegin(begin.hook());
			TestSubscriber<Long> ts = TestSubscriber.create();
			f.scope.inTransaction(f.insert(1)).subscribe(ts);
			begin.awaitReached();
			ts.cancel();
			begin.release();
			f.assertNoTransactionLeftOpen();
			assertThat(txCommands(f.counting)).containsExactly("2:BEGIN", "2:ROLLBACK");
			assertThat(f.ids(1, 1)).isZero();
		}
	}

	/** Clause 10: cancel in the middle of the body, after a write: ROLLBACK, the connection comes back clean. */
	@ParameterizedTest
	@EnumSource(PoolKind.class)
	void cancelMidBody(PoolKind kind) {
		try (Fixture f = new Fixture(kind)) {
			CountDownLatch wrote = new CountDownLatch(1);
			TestSubscriber<Long> ts = TestSubscriber.create();
			f.scope.inTransaction(f.insert(1).then(Mono.fromRunnable(wrote::countDown)).then(Mono.<Long>never())).subscribe(ts);
			awaitLatch(wrote);
			ts.cancel();
			f.assertNoTransactionLeftOpen();
			assertThat(txCommands(f.counting)).containsExactly("2:BEGIN", "2:ROLLBACK");
			assertThat(f.ids(1, 1)).isZero();
		}
	}

	/** Clause 10: cancel while COMMIT is held: the commit finishes, the data is kept, the connection comes back clean. */
	@ParameterizedTest
	@EnumSource(PoolKind.class)
	void cancelDuringCommit(PoolKind kind) {
		try (Fixture f = new Fixture(kind)) {
			Hold commit = new Hold();
			f.counting.beforeCommit(commit.hook());
			TestSubscriber<Long> ts = TestSubscriber.create();
			f.scope.inTransaction(f.insert(1)).subscribe(ts);
			commit.awaitReached();
			ts.cancel();
			commit.release();
			f.assertNoTransactionLeftOpen();
			assertThat(ts.getReceivedOnNext()).isEmpty();
			assertThat(ts.isTerminated()).isFalse();
			assertThat(txCommands(f.counting)).containsExactly("2:BEGIN", "2:COMMIT");
			assertThat(f.ids(1, 1)).isOne();
		}
	}

	/**
	 * Clause 10: cancel at a random moment, 50 times (Mono and Flux flavour alternating). Whatever the moment,
	 * the connection comes back clean and the transaction's three rows are all there or none is.
	 */
	@ParameterizedTest
	@EnumSource(PoolKind.class)
	void cancelAtARandomMoment(PoolKind kind) {
		long seed = System.nanoTime();
		Random random = new Random(seed);
		try (Fixture f = new Fixture(kind)) {
			for (int i = 0; i < Integer.getInteger("tether.safety.iterations", 50); i++) {
				int base = 10 * (i + 1);
				Flux<Long> body = Flux.range(base, 3).concatMap(f::insert);
				Publisher<Long> tx = i % 2 == 0 ? f.scope.inTransaction(body) : f.scope.inTransaction(body.reduce(0L, Long::sum));
				TestSubscriber<Long> ts = TestSubscriber.create();
				tx.subscribe(ts);
				sleep(random.nextInt(12));
				ts.cancel();
				f.assertNoTransactionLeftOpen();
				assertThat(f.ids(base, base + 2)).as("rows of iteration %d (seed %d)", i, seed).isIn(0, 3);
			}
		}
	}

	// ---------------------------------------------------------------- fixture

	private static void awaitLatch(CountDownLatch latch) {
		try {
			assertThat(latch.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).as("stage reached").isTrue();
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new AssertionError(e);
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new AssertionError(e);
		}
	}

	/** A pool of one connection, a counting factory and scope over it, a table, and an unpooled observer connection. */
	private static final class Fixture implements AutoCloseable {

		final ConnectionPool r2dbcPool;
		final BarePool barePool;
		final CountingConnectionFactory counting;
		final ConnectionScope scope;
		final Connection observer;
		final String table = "txs_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
		final int pid;
		int marker = -1;

		Fixture(PoolKind kind) {
			if (kind == PoolKind.R2DBC_POOL) {
				r2dbcPool = Database.pool(Database.POSTGRES.connectionFactory(), 1, Duration.ofSeconds(30));
				barePool = null;
				counting = new CountingConnectionFactory(r2dbcPool);
			}
			else {
				r2dbcPool = null;
				barePool = new BarePool(Database.POSTGRES.connectionFactory());
				counting = new CountingConnectionFactory(barePool);
			}
			scope = ConnectionScope.builder(counting).name("safety-" + kind).build();
			observer = Mono.from(Database.POSTGRES.connectionFactory().create()).block(TIMEOUT);
			update(observer, "CREATE TABLE " + table + " (id INT PRIMARY KEY, v VARCHAR(50))").block(TIMEOUT);
			pid = scope.withConnection(c -> query(c, "SELECT pg_backend_pid()", Number.class).single())
					.block(TIMEOUT).intValue();
		}

		Mono<Long> insert(int id) {
			return scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (" + id + ", 'v')"));
		}

		/** Rows with ids in {@code [from, to]} as the observer sees them. */
		int ids(int from, int to) {
			return query(observer, "SELECT count(*) FROM " + table + " WHERE id BETWEEN " + from + " AND " + to, Number.class)
					.single().block(TIMEOUT).intValue();
		}

		int openTransactionsOnThePooledConnection() {
			return query(observer, "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' "
					+ "AND datname = current_database() AND pid = " + pid, Number.class).single().block(TIMEOUT).intValue();
		}

		void assertAllReleased() {
			try {
				Leaks.assertAllReleased(counting, r2dbcPool);
				if (barePool != null) {
					await(() -> barePool.acquired() == 0, "bare pool fully returned");
				}
			}
			catch (AssertionError e) {
				throw new AssertionError(e.getMessage() + "\n" + diagnosis(), e);
			}
		}

		/** What the client sent last and what the server says the pooled connection is doing. */
		String diagnosis() {
			List<String> commands = counting.commands();
			String server = query(observer, "SELECT coalesce(state, '?') || ' | ' || coalesce(query, '?') FROM pg_stat_activity WHERE pid = "
					+ pid, String.class).collectList().block(TIMEOUT).toString();
			return "last commands: " + commands.subList(Math.max(0, commands.size() - 8), commands.size())
					+ "\nserver, pid " + pid + ": " + server;
		}

		/**
		 * After everything was released: the pooled connection is not in a transaction (server view), the next
		 * borrower's auto-commit insert is visible to another session, and Tether ended every BEGIN it sent.
		 */
		void assertNoTransactionLeftOpen() {
			assertAllReleased();
			assertThat(openTransactionsOnThePooledConnection()).as("pooled connection idle in transaction").isZero();

			int id = marker--;
			int borrower = insert(id).then(scope.withConnection(c -> query(c, "SELECT pg_backend_pid()", Number.class).single()))
					.block(TIMEOUT).intValue();
			assertThat(borrower).as("the next borrower got the one pooled connection").isEqualTo(pid);
			assertAllReleased();
			assertThat(ids(id, id)).as("next borrower's auto-commit insert visible from another session").isOne();
			assertThat(openTransactionsOnThePooledConnection()).as("idle in transaction after the next borrower").isZero();

			Map<String, List<String>> byConnection = new LinkedHashMap<>();
			for (String c : txCommands(counting)) {
				int colon = c.indexOf(':');
				byConnection.computeIfAbsent(c.substring(0, colon), k -> new ArrayList<>()).add(c.substring(colon + 1));
			}
			byConnection.forEach((connection, commands) -> {
				int lastBegin = commands.lastIndexOf("BEGIN");
				if (lastBegin >= 0) {
					assertThat(commands.subList(lastBegin + 1, commands.size()))
							.as("connection %s ended its transaction (%s)", connection, commands)
							.containsAnyOf("COMMIT", "ROLLBACK");
				}
			});
		}

		@Override
		public void close() {
			try {
				assertAllReleased();
			}
			finally {
				update(observer, "DROP TABLE " + table).onErrorResume(e -> Mono.empty()).block(TIMEOUT);
				Mono.from(observer.close()).block(TIMEOUT);
				if (r2dbcPool != null) {
					r2dbcPool.disposeLater().block(TIMEOUT);
				}
				else {
					barePool.pool.disposeLater().block(TIMEOUT);
				}
			}
		}
	}

	/**
	 * A reactor-pool of connections that does nothing on release but give the connection back: no rollback,
	 * no reset. Whatever state a connection is released in, the next borrower gets.
	 */
	private static final class BarePool implements ConnectionFactory {

		final ConnectionFactory raw;
		final InstrumentedPool<Connection> pool;

		BarePool(ConnectionFactory raw) {
			this.raw = raw;
			this.pool = PoolBuilder.from(Mono.<Connection>defer(() -> Mono.from(raw.create())))
					.sizeBetween(0, 1)
					.destroyHandler(c -> c.close())
					.buildPool();
		}

		@Override
		public Publisher<? extends Connection> create() {
			return pool.acquire().map(Lent::new);
		}

		@Override
		public ConnectionFactoryMetadata getMetadata() {
			return raw.getMetadata();
		}

		int acquired() {
			return pool.metrics().acquiredSize();
		}
	}

	/** A connection lent by {@link BarePool}: close() gives it back, once. */
	private static final class Lent implements Connection {

		private final PooledRef<Connection> ref;
		private final Connection c;
		private final AtomicBoolean released = new AtomicBoolean();

		Lent(PooledRef<Connection> ref) {
			this.ref = ref;
			this.c = ref.poolable();
		}

		@Override
		public Publisher<Void> close() {
			return Mono.defer(() -> released.compareAndSet(false, true) ? ref.release() : Mono.empty());
		}

		@Override
		public Publisher<Void> beginTransaction() {
			return c.beginTransaction();
		}

		@Override
		public Publisher<Void> beginTransaction(TransactionDefinition definition) {
			return c.beginTransaction(definition);
		}

		@Override
		public Publisher<Void> commitTransaction() {
			return c.commitTransaction();
		}

		@Override
		public Batch createBatch() {
			return c.createBatch();
		}

		@Override
		public Publisher<Void> createSavepoint(String name) {
			return c.createSavepoint(name);
		}

		@Override
		public Statement createStatement(String sql) {
			return c.createStatement(sql);
		}

		@Override
		public boolean isAutoCommit() {
			return c.isAutoCommit();
		}

		@Override
		public ConnectionMetadata getMetadata() {
			return c.getMetadata();
		}

		@Override
		public IsolationLevel getTransactionIsolationLevel() {
			return c.getTransactionIsolationLevel();
		}

		@Override
		public Publisher<Void> releaseSavepoint(String name) {
			return c.releaseSavepoint(name);
		}

		@Override
		public Publisher<Void> rollbackTransaction() {
			return c.rollbackTransaction();
		}

		@Override
		public Publisher<Void> rollbackTransactionToSavepoint(String name) {
			return c.rollbackTransactionToSavepoint(name);
		}

		@Override
		public Publisher<Void> setAutoCommit(boolean autoCommit) {
			return c.setAutoCommit(autoCommit);
		}

		@Override
		public Publisher<Void> setLockWaitTimeout(Duration timeout) {
			return c.setLockWaitTimeout(timeout);
		}

		@Override
		public Publisher<Void> setStatementTimeout(Duration timeout) {
			return c.setStatementTimeout(timeout);
		}

		@Override
		public Publisher<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
			return c.setTransactionIsolationLevel(isolationLevel);
		}

		@Override
		public Publisher<Boolean> validate(ValidationDepth depth) {
			return c.validate(depth);
		}
	}
}
