package io.tether.core.storm;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.Propagation;
import io.tether.context.TransactionOptions;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.core.Database;
import io.tether.pool.PoolSettings;
import io.tether.pool.TetherPool;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.context.ContextView;

/**
 * The cancel promise under a storm (issue 10): many pipelines of random kinds in flight on a small pool,
 * each cancelled at a random moment. At the end nothing may be held, every acquisition released once, no
 * session left in a transaction, no statement run inside another pipeline's transaction, no transaction
 * half committed, and no Netty buffer leaked. {@code -Dtether.storm.pipelines=N} sets the count,
 * {@code -Dtether.storm.seed=S} replays a run (the seed is printed).
 */
abstract class StormContract {

	static final int IN_FLIGHT = 64;
	static final int MAX_SIZE = 8;
	static final int ACCOUNTS = 16;
	static final long BALANCE = 1_000;
	static final String CANCEL = "tether.storm.cancel";

	enum Kind { OUTSIDE, EAGER, LAZY, TRANSACTION, NESTED, STREAM, STREAM_CUT, STREAM_IN_TRANSACTION, STREAM_IN_CONNECTION }

	enum Moment { NEVER, BEFORE_SUBSCRIBE, DURING_ACQUIRE, DURING_BEGIN, INTO_BODY, AFTER_ROWS, DURING_COMMIT }

	/** Where a pipeline is to be cancelled; fired by the hooks of the counting factory, looked up in the Context. */
	static final class Trigger {
		final Moment moment;
		final long delayMicros;
		final Sinks.Empty<Void> sink = Sinks.empty();

		Trigger(Moment moment, long delayMicros) {
			this.moment = moment;
			this.delayMicros = delayMicros;
		}

		void fire(Moment at) {
			if (at != moment) {
				return;
			}
			if (delayMicros == 0) {
				sink.tryEmitEmpty();
			}
			else {
				Mono.delay(Duration.ofNanos(delayMicros * 1000)).subscribe(v -> sink.tryEmitEmpty());
			}
		}
	}

	/** A fresh, unpooled factory whose sessions carry {@code application} where the database knows such a name. */
	abstract ConnectionFactory target(String application);

	/** SQL of one boolean: true when the statement runs outside any transaction left open. */
	abstract String probeSql();

	/** Sessions of {@code application} idle inside a transaction; -1 where the database cannot tell. */
	abstract int idleInTransaction(Database admin, String application);

	abstract int defaultPipelines();

	@Test
	void stormOnTetherPool() {
		storm(true);
	}

	@Test
	void stormOnR2dbcPool() {
		storm(false);
	}

	private void storm(boolean tetherPool) {
		int pipelines = Integer.getInteger("tether.storm.pipelines", defaultPipelines());
		long seed = Long.getLong("tether.storm.seed", System.nanoTime());
		String app = "tether_storm_" + Long.toHexString(seed & 0xffffffL) + (tetherPool ? "_t" : "_r");
		String schema = app;
		System.out.println("storm " + getClass().getSimpleName() + (tetherPool ? " on Tether's pool" : " on r2dbc-pool")
				+ ": " + pipelines + " pipelines, seed " + seed + " (-Dtether.storm.seed=" + seed + ")");
		ResourceLeakDetector.Level levelBefore = ResourceLeakDetector.getLevel();
		// PARANOID unless the run names a level (-Dio.netty.leakDetection.level): every buffer is tracked.
		String level = System.getProperty("io.netty.leakDetection.level");
		ResourceLeakDetector.setLevel(level == null ? ResourceLeakDetector.Level.PARANOID
				: ResourceLeakDetector.Level.valueOf(level.trim().toUpperCase(java.util.Locale.ROOT)));
		ErrCapture err = new ErrCapture();
		// A drain after a cancel that cannot finish drops its error; none is expected, so none may go unseen.
		Queue<Throwable> dropped = new ConcurrentLinkedQueue<>();
		Hooks.onErrorDropped(dropped::add);
		ConnectionFactory target = target(app);
		TetherPool tether = null;
		ConnectionPool r2dbc = null;
		ConnectionFactory pool;
		IntSupplier acquired;
		IntSupplier pending;
		if (tetherPool) {
			tether = TetherPool.create(target, PoolSettings.builder().name(app).maxSize(MAX_SIZE)
					.acquireTimeout(Duration.ofSeconds(10)).build());
			TetherPool t = tether;
			pool = t;
			acquired = () -> t.stats().acquired();
			pending = () -> t.stats().pending();
		}
		else {
			r2dbc = io.tether.context.testing.Database.pool(target, MAX_SIZE, Duration.ofSeconds(10));
			ConnectionPool r = r2dbc;
			pool = r;
			acquired = () -> r.getMetrics().map(PoolMetrics::acquiredSize).orElse(0);
			pending = () -> r.getMetrics().map(PoolMetrics::pendingAcquireSize).orElse(0);
		}
		CountingConnectionFactory counting = new CountingConnectionFactory(pool);
		Database.Builder builder = Database.builder(counting).name(app).slowStatementThreshold(Duration.ZERO);
		String drainBudget = System.getProperty("tether.storm.drainBudget");
		if (drainBudget != null) {
			// PT0S: every drain still running when its timer fires asks the server to cancel its statement.
			builder.drainBudget(Duration.parse(drainBudget));
			System.out.println("storm " + app + ": drainBudget " + drainBudget);
		}
		Database db = builder.build();
		Database admin = Database.of(target);
		counting.beforeAcquire(() -> fire(Moment.DURING_ACQUIRE));
		counting.beforeBegin(() -> fire(Moment.DURING_BEGIN));
		counting.beforeCommit(() -> fire(Moment.DURING_COMMIT));
		counting.onExecute(ctx -> ctx.<Trigger>getOrEmpty(CANCEL).ifPresent(t -> t.fire(Moment.INTO_BODY)));
		try {
			admin.sql("create schema " + schema).rowsUpdated()
					.then(admin.sql("create table " + schema + ".account (id int primary key, balance bigint not null)").rowsUpdated())
					.then(admin.sql("create table " + schema + ".pair (tag bigint not null, part int not null)").rowsUpdated())
					.thenMany(Flux.range(1, ACCOUNTS).concatMap(i -> admin.sql("insert into " + schema
							+ ".account (id, balance) values (:id, :b)").bind("id", i).bind("b", BALANCE).rowsUpdated()))
					.then().block(Duration.ofSeconds(60));

			Random random = new Random(seed);
			AtomicLong tags = new AtomicLong();
			AtomicInteger probesFailed = new AtomicInteger();
			AtomicInteger hangs = new AtomicInteger();
			Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
			long started = System.nanoTime();
			Flux.range(0, pipelines)
					.map(i -> plan(random))
					.flatMap(p -> run(db, schema, p, tags, probesFailed)
							.timeout(Duration.ofSeconds(30), Mono.fromRunnable(hangs::incrementAndGet))
							.onErrorResume(e -> {
								errors.add(e);
								return Mono.empty();
							}), IN_FLIGHT)
					.then()
					.block(Duration.ofMinutes(Math.max(5, pipelines / 2_000)));
			System.out.println("storm " + app + ": " + pipelines + " pipelines in "
					+ Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms"
					+ (tether != null ? "; " + tether.stats() : ""));

			await(() -> acquired.getAsInt() == 0 && pending.getAsInt() == 0 && counting.open() == 0);
			assertThat(hangs.get()).as("pipelines that hung").isZero();
			assertThat(errors).as("pipelines that failed").isEmpty();
			assertThat(acquired.getAsInt()).as("connections still acquired").isZero();
			assertThat(pending.getAsInt()).as("acquisitions still pending").isZero();
			assertThat(counting.released()).as("releases").isEqualTo(counting.acquired());
			assertThat(counting.doubleReleases()).as("double releases").isZero();
			assertThat(probesFailed.get()).as("statements that ran inside another pipeline's transaction").isZero();
			int idleInTx = idleInTransaction(admin, app);
			assertThat(idleInTx).as("sessions idle in transaction").isLessThanOrEqualTo(0);
			assertThat(admin.sql("select sum(balance) from " + schema + ".account").mapTo(Long.class).one()
					.block(Duration.ofSeconds(30))).as("sum of balances").isEqualTo(ACCOUNTS * BALANCE);
			assertThat(admin.sql("select count(*) from (select tag from " + schema + ".pair group by tag having count(*) <> 2) t")
					.mapTo(Long.class).one().block(Duration.ofSeconds(30))).as("half-inserted pairs").isZero();
			for (int i = 0; i < 5; i++) {
				System.gc();
				// A leak is reported when a later buffer is tracked: allocate some.
				db.sql(rowsSource(50))
						.mapTo(Integer.class).all().then().block(Duration.ofSeconds(30));
			}
			assertThat(err.leaks()).as("Netty LEAK reports").isEmpty();
			assertThat(dropped).as("errors dropped (by a cleanup after a cancel)").isEmpty();
			if (tether != null) {
				// Every cancel in the storm can be drained within the cleanup bound: none may cost a connection.
				assertThat(tether.stats().invalidations()).as("connections destroyed").isZero();
			}
		}
		finally {
			Hooks.resetOnErrorDropped();
			err.close();
			ResourceLeakDetector.setLevel(levelBefore);
			try {
				admin.sql("drop schema " + schema + " cascade").rowsUpdated().block(Duration.ofSeconds(60));
			}
			finally {
				if (tether != null) {
					tether.closeLater().block(Duration.ofSeconds(60));
				}
				if (r2dbc != null) {
					r2dbc.disposeLater().block(Duration.ofSeconds(60));
				}
			}
		}
	}

	/** SQL producing {@code n} rows of one integer column. */
	abstract String rowsSource(int n);

	private static Mono<Void> fire(Moment at) {
		return Mono.deferContextual(ctx -> {
			ctx.<Trigger>getOrEmpty(CANCEL).ifPresent(t -> t.fire(at));
			return Mono.empty();
		});
	}

	record Plan(Kind kind, Trigger trigger, int rows, int a, int b, long amount) {
	}

	private static Plan plan(Random r) {
		Kind kind = Kind.values()[r.nextInt(Kind.values().length)];
		Moment moment = Moment.values()[r.nextInt(Moment.values().length)];
		long delay = moment == Moment.INTO_BODY ? r.nextInt(2_001) : 0;
		int a = 1 + r.nextInt(ACCOUNTS - 1);
		int b = a + 1 + r.nextInt(ACCOUNTS - a);
		return new Plan(kind, new Trigger(moment, delay), 1 + r.nextInt(500), a, b, 1 + r.nextInt(50));
	}

	private Mono<Void> run(Database db, String schema, Plan p, AtomicLong tags, AtomicInteger probesFailed) {
		Mono<Void> probe = db.sql(probeSql()).mapTo(Boolean.class).one().doOnNext(ok -> {
			if (!ok) {
				probesFailed.incrementAndGet();
			}
		}).then();
		Mono<Void> transfer = db.sql("update " + schema + ".account set balance = balance - :n where id = :a")
				.bind("n", p.amount()).bind("a", p.a()).rowsUpdated()
				.then(db.sql("update " + schema + ".account set balance = balance + :n where id = :b")
						.bind("n", p.amount()).bind("b", p.b()).rowsUpdated())
				.then();
		Mono<Void> pair = Mono.defer(() -> {
			long tag = tags.incrementAndGet();
			return db.sql("insert into " + schema + ".pair (tag, part) values (:t, 1)").bind("t", tag).rowsUpdated()
					.then(db.sql("insert into " + schema + ".pair (tag, part) values (:t, 2)").bind("t", tag).rowsUpdated())
					.then();
		});
		Flux<Integer> stream = db.sql(rowsSource(500)).mapTo(Integer.class).all();
		Flux<Integer> cut = p.trigger().moment == Moment.AFTER_ROWS ? stream.take(p.rows()) : stream;
		Mono<Void> body = switch (p.kind()) {
			case OUTSIDE -> probe;
			case EAGER -> db.inConnection(probe.then(db.sql("select 1").mapTo(Integer.class).one()).then(db.sql("select 2")
					.mapTo(Integer.class).one()).then());
			case LAZY -> db.inLazyConnection(probe.then(db.sql("select 1").mapTo(Integer.class).one()).then());
			case TRANSACTION -> db.inTransaction(transfer.then(pair));
			case NESTED -> db.inTransaction(pair
					.then(db.inTransaction(TransactionOptions.builder().propagation(Propagation.NESTED).build(), transfer))
					.then(db.inTransaction(TransactionOptions.builder().propagation(Propagation.REQUIRED).build(), pair)));
			case STREAM -> stream.then();
			case STREAM_CUT -> stream.take(p.rows()).then();
			case STREAM_IN_TRANSACTION -> db.inTransaction(transfer.thenMany(cut).then());
			case STREAM_IN_CONNECTION -> db.inConnection(cut.then(db.sql("select 7").mapTo(Integer.class).one()).then());
		};
		Trigger t = p.trigger();
		Mono<Void> pipeline = t.moment == Moment.BEFORE_SUBSCRIBE ? body.flux().take(0).then()
				: body.flux().takeUntilOther(t.sink.asMono()).then();
		return pipeline.contextWrite(ctx -> ctx.put(CANCEL, t));
	}

	static void await(java.util.function.BooleanSupplier condition) {
		long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
		while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
			try {
				Thread.sleep(5);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new AssertionError(e);
			}
		}
	}

	/** Copies {@code System.err} (where slf4j-simple writes, looked up on every write) while passing it through. */
	static final class ErrCapture implements AutoCloseable {

		private final PrintStream original = System.err;
		private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

		ErrCapture() {
			System.setErr(new PrintStream(new OutputStream() {
				@Override
				public void write(int b) {
					original.write(b);
					synchronized (copy) {
						copy.write(b);
					}
				}

				@Override
				public void write(byte[] b, int off, int len) {
					original.write(b, off, len);
					synchronized (copy) {
						copy.write(b, off, len);
					}
				}
			}, true, StandardCharsets.UTF_8));
		}

		List<String> leaks() {
			String text;
			synchronized (copy) {
				text = copy.toString(StandardCharsets.UTF_8);
			}
			return text.lines().filter(l -> l.contains("LEAK:")).toList();
		}

		@Override
		public void close() {
			System.setErr(original);
		}
	}
}
