package io.tether.benchmarks;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.Wrapped;
import io.tether.core.Database;
import io.tether.pool.TetherPool;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What does cancelling a large result cost inside a scope? Not a JMH benchmark: one pipeline at a time,
 * each {@code db.inConnection(query(n).all().take(1).then(select 2))} on a pool of one connection, timed from
 * the moment {@code take(1)} cancels the query to the moment the next statement's row arrives, which is how
 * long the cancelled remainder holds the scope's connection. Also counts the rows the driver handed over
 * after the cancel (read and discarded by Tether's drain), through a counting proxy around each result.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.tether.benchmarks.CancelDrain URL [rows,...] [iterations] [budgets] [tx]
 * </pre>
 * {@code URL} is an R2DBC driver URL (PostgreSQL: {@code generate_series}; H2: {@code SYSTEM_RANGE}).
 * {@code budgets} lists the {@code drainBudget}s to compare, as ISO-8601 durations, {@code default} for the
 * default one, {@code off} for the drain in full (a budget as long as {@code cleanupTimeout}, which never asks the
 * server to cancel: the behaviour before the budget existed); default {@code off,default}. Each budget gets its own {@link Database} over the
 * same pool, and the variants take turns pipeline by pipeline, so that a machine whose load drifts (a shared
 * box) weighs on all of them alike. {@code tx} runs each pipeline inside {@code inTransaction} instead of
 * {@code inConnection}. The first third of the iterations (at least 3) warm up and are not reported.
 */
public final class CancelDrain {

	private CancelDrain() {
	}

	public static void main(String[] args) {
		String url = args.length > 0 ? args[0] : "r2dbc:postgresql://postgres@127.0.0.1:5432/test";
		long[] sizes = Arrays.stream((args.length > 1 ? args[1] : "100000,1000000").split(",")).mapToLong(Long::parseLong).toArray();
		int iterations = args.length > 2 ? Integer.parseInt(args[2]) : 30;
		List<String> budgets = List.of((args.length > 3 ? args[3] : "off,default").split(","));
		boolean tx = args.length > 4 && args[4].equals("tx");
		boolean h2 = url.startsWith("r2dbc:h2:");
		TetherPool pool = TetherPool.create(url + (url.contains("?") ? "&" : "?") + "maxSize=1");
		AtomicLong rows = new AtomicLong();
		ConnectionFactory counting = countingRows(pool, rows);
		List<Database> dbs = new ArrayList<>();
		for (String budget : budgets) {
			Database.Builder b = Database.builder(counting).slowStatementThreshold(Duration.ZERO).cleanupTimeout(CLEANUP_TIMEOUT);
			if (!budget.equals("default")) {
				b.drainBudget(budget.equals("off") ? CLEANUP_TIMEOUT : Duration.parse(budget));
			}
			dbs.add(b.build());
		}
		try {
			System.out.println("CancelDrain " + (h2 ? "H2" : "PostgreSQL") + (tx ? ", in a transaction" : ", in a connection scope")
					+ ", " + iterations + " iterations per size and budget (" + warmups(iterations) + " warm-up), variants in turn");
			if (!h2) {
				System.out.println(cancelRequestCost(pool));
			}
			System.out.println("rows       budget      cancel->next ms: median     p90     max   | rows read after the cancel: median      max");
			for (long n : sizes) {
				String sql = h2 ? "select x from system_range(1, " + n + ")" : "select g from generate_series(1, " + n + ") g";
				List<List<Double>> millis = new ArrayList<>();
				List<List<Long>> after = new ArrayList<>();
				for (int v = 0; v < dbs.size(); v++) {
					millis.add(new ArrayList<>());
					after.add(new ArrayList<>());
				}
				for (int i = 0; i < iterations; i++) {
					for (int k = 0; k < dbs.size(); k++) {
						int v = (i + k) % dbs.size();
						long[] m = once(dbs.get(v), sql, rows, tx);
						if (i >= warmups(iterations)) {
							millis.get(v).add(m[0] / 1e6);
							after.get(v).add(m[1]);
						}
					}
				}
				for (int v = 0; v < dbs.size(); v++) {
					List<Double> ms = millis.get(v);
					List<Long> rs = after.get(v);
					ms.sort(null);
					rs.sort(null);
					System.out.printf(Locale.ROOT, "%-10d %-10s %22.1f %7.1f %7.1f   | %34d %8d%n", n, budgets.get(v), pct(ms, 50),
							pct(ms, 90), ms.get(ms.size() - 1), rs.get(rs.size() / 2), rs.get(rs.size() - 1));
				}
			}
			System.out.println(pool.stats());
		}
		finally {
			pool.closeLater().block(Duration.ofSeconds(30));
		}
	}

	private static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(30);

	/** What the driver's cancel request costs by itself: sent 60 times on an idle connection, the first 20 not counted. */
	private static String cancelRequestCost(TetherPool pool) {
		List<Double> ms = Mono.usingWhen(pool.create(), c -> {
			Connection physical = c;
			while (!(physical instanceof io.r2dbc.postgresql.api.PostgresqlConnection) && physical instanceof Wrapped<?> w
					&& w.unwrap() instanceof Connection inner) {
				physical = inner;
			}
			io.r2dbc.postgresql.api.PostgresqlConnection pg = (io.r2dbc.postgresql.api.PostgresqlConnection) physical;
			return Flux.range(0, 60).concatMap(i -> Mono.fromCallable(System::nanoTime)
							.flatMap(t -> pg.cancelRequest().then(Mono.fromCallable(() -> (System.nanoTime() - t) / 1e6))))
					.skip(20).collectSortedList();
		}, Connection::close).block(Duration.ofSeconds(60));
		if (ms == null || ms.isEmpty()) {
			throw new IllegalStateException("no cancel request was timed");
		}
		return String.format(Locale.ROOT, "the driver's cancel request on an idle connection, 40 times: median %.1f ms, p90 %.1f ms,"
				+ " max %.1f ms", pct(ms, 50), pct(ms, 90), ms.get(ms.size() - 1));
	}

	/** One pipeline: nanoseconds from the cancel to the next statement's row, and the rows read in between. */
	private static long[] once(Database db, String sql, AtomicLong rows, boolean tx) {
		long[] at = new long[2];
		long[] rowsAt = new long[2];
		Mono<Integer> next = db.sql("select 2").mapTo(Integer.class).one().doOnNext(v -> {
			at[1] = System.nanoTime();
			rowsAt[1] = rows.get();
		});
		Mono<Integer> body = db.sql(sql).mapTo(Long.class).all()
				.doOnCancel(() -> {
					at[0] = System.nanoTime();
					rowsAt[0] = rows.get();
				})
				.take(1).then(next);
		Integer two = (tx ? db.inTransaction(body) : db.inConnection(body)).block(Duration.ofSeconds(60));
		if (two == null || two != 2) {
			throw new IllegalStateException("the next statement returned " + two);
		}
		// The next statement's own row is counted before its mapping function returns.
		return new long[] {at[1] - at[0], rowsAt[1] - rowsAt[0] - 1};
	}

	private static int warmups(int iterations) {
		return Math.max(3, iterations / 3);
	}

	private static double pct(List<Double> sorted, int p) {
		return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
	}

	/** A factory whose connections count every row read through {@code Result.map(BiFunction)} into {@code rows}. */
	private static ConnectionFactory countingRows(ConnectionFactory factory, AtomicLong rows) {
		return new ConnectionFactory() {
			@Override
			public Publisher<? extends Connection> create() {
				return Mono.from(factory.create()).map(c -> proxy(Connection.class, c, (m, a) -> {
					Object r = invoke(m, c, a);
					return r instanceof Statement s ? statement(s, rows) : r;
				}));
			}

			@Override
			public ConnectionFactoryMetadata getMetadata() {
				return factory.getMetadata();
			}
		};
	}

	private static Statement statement(Statement statement, AtomicLong rows) {
		Statement[] self = new Statement[1];
		self[0] = proxy(Statement.class, statement, (m, a) -> {
			Object r = invoke(m, statement, a);
			if (m.getName().equals("execute")) {
				return Flux.from((Publisher<?>) r).map(result -> result((Result) result, rows));
			}
			return r == statement ? self[0] : r;
		});
		return self[0];
	}

	@SuppressWarnings("unchecked")
	private static Result result(Result result, AtomicLong rows) {
		return proxy(Result.class, result, (m, a) -> {
			if (m.getName().equals("map") && a != null && a.length == 1 && a[0] instanceof BiFunction<?, ?, ?> f) {
				BiFunction<Row, RowMetadata, ?> mapping = (BiFunction<Row, RowMetadata, ?>) f;
				return result.map((row, metadata) -> {
					rows.incrementAndGet();
					return mapping.apply(row, metadata);
				});
			}
			return invoke(m, result, a);
		});
	}

	private interface Handler {
		@Nullable Object handle(Method method, Object @Nullable [] args) throws Throwable;
	}

	/** A proxy of {@code type} (and {@link Wrapped}, unwrapping to {@code target}) whose calls go to {@code handler}. */
	private static <T> T proxy(Class<T> type, T target, Handler handler) {
		InvocationHandler h = (proxy, method, args) -> {
			if (method.getDeclaringClass() == Wrapped.class) {
				return target;
			}
			if (method.getDeclaringClass() == Object.class) {
				return method.getName().equals("equals") ? proxy == args[0] : invoke(method, target, args);
			}
			return handler.handle(method, args);
		};
		return type.cast(Proxy.newProxyInstance(CancelDrain.class.getClassLoader(), new Class<?>[] {type, Wrapped.class}, h));
	}

	private static @Nullable Object invoke(Method method, Object target, Object @Nullable [] args) throws Throwable {
		try {
			return method.invoke(target, args);
		}
		catch (InvocationTargetException e) {
			throw e.getCause();
		}
	}
}
