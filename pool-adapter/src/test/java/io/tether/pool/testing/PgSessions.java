package io.tether.pool.testing;

import static io.r2dbc.spi.ConnectionFactoryOptions.HOST;
import static io.r2dbc.spi.ConnectionFactoryOptions.PORT;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;
import io.r2dbc.spi.Readable;
import io.tether.context.testing.Database;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The server's view of the sessions under test, through one unpooled admin connection of its own.
 *
 * <p>Every pool under test connects with its own {@code application_name} ({@link #newApplicationName}),
 * passed through r2dbc-postgresql's {@code applicationName} option, so that {@code pg_stat_activity}
 * shows a test only its own sessions even while other suites use the same server. Test code may block:
 * each call waits at most {@link #TIMEOUT}, a guard against a hang, not a timing assertion.
 */
public final class PgSessions implements AutoCloseable {

	/** The upper bound of any single admin round trip. */
	public static final Duration TIMEOUT = Duration.ofSeconds(30);

	/** r2dbc-postgresql's option name for the startup parameter {@code application_name}. */
	public static final Option<String> APPLICATION_NAME = Option.valueOf("applicationName");

	private final Connection admin;

	private PgSessions(Connection admin) {
		this.admin = admin;
	}

	/** Opens the admin connection (application name {@code tether-rel-admin}). */
	public static PgSessions open() {
		Connection admin = Mono.from(factory("tether-rel-admin").create()).block(TIMEOUT);
		return new PgSessions(Objects.requireNonNull(admin, "admin connection"));
	}

	/** A fresh application name, {@code tether-rel-<label>-<random>}, short enough for PostgreSQL's 63 bytes. */
	public static String newApplicationName(String label) {
		String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
		String name = "tether-rel-" + label + "-" + suffix;
		return name.length() <= 63 ? name : name.substring(name.length() - 63);
	}

	/** Options for a direct connection to the test server that announces {@code applicationName}. */
	public static ConnectionFactoryOptions options(String applicationName) {
		return ConnectionFactoryOptions.parse(Database.postgresUrl()).mutate()
				.option(APPLICATION_NAME, applicationName)
				.build();
	}

	/** Like {@link #options(String)}, but through {@code proxy} on 127.0.0.1. */
	public static ConnectionFactoryOptions options(String applicationName, TcpProxy proxy) {
		return options(applicationName).mutate()
				.option(HOST, "127.0.0.1")
				.option(PORT, proxy.port())
				.build();
	}

	/** An unpooled driver factory for {@link #options(String)}. */
	public static ConnectionFactory factory(String applicationName) {
		return ConnectionFactories.get(options(applicationName));
	}

	/** An unpooled driver factory for {@link #options(String, TcpProxy)}. */
	public static ConnectionFactory factory(String applicationName, TcpProxy proxy) {
		return ConnectionFactories.get(options(applicationName, proxy));
	}

	/** A proxy in front of the test server (host and port taken from {@link Database#postgresUrl()}). */
	public static TcpProxy proxyToServer() {
		ConnectionFactoryOptions o = ConnectionFactoryOptions.parse(Database.postgresUrl());
		String host = String.valueOf(o.getRequiredValue(HOST));
		Object port = o.getValue(PORT);
		return TcpProxy.start(host, port == null ? 5432 : Integer.parseInt(String.valueOf(port)));
	}

	/** Backend PIDs of the sessions that carry {@code applicationName}, ascending. */
	public List<Integer> pids(String applicationName) {
		return List.copyOf(states(applicationName).keySet());
	}

	/** PID to {@code state} ({@code idle}, {@code active}, {@code idle in transaction}, ...) of those sessions. */
	public Map<Integer, String> states(String applicationName) {
		return query("SELECT pid, coalesce(state, '') FROM pg_stat_activity WHERE application_name = '"
				+ quote(applicationName) + "' ORDER BY pid",
				r -> Map.entry(Objects.requireNonNull(r.get(0, Integer.class)), Objects.requireNonNull(r.get(1, String.class))))
				.stream()
				.collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
	}

	/** How many of those sessions are in {@code state}. */
	public long count(String applicationName, String state) {
		return states(applicationName).values().stream().filter(state::equals).count();
	}

	/** How many of those sessions sit {@code idle in transaction} (or its aborted variant): a leaked transaction. */
	public long idleInTransaction(String applicationName) {
		return states(applicationName).values().stream().filter(s -> s.startsWith("idle in transaction")).count();
	}

	/** PIDs of those sessions that are running a statement whose text contains {@code fragment}. */
	public List<Integer> activeRunning(String applicationName, String fragment) {
		return query("SELECT pid FROM pg_stat_activity WHERE application_name = '" + quote(applicationName)
				+ "' AND state = 'active' AND position('" + quote(fragment) + "' in query) > 0 ORDER BY pid",
				r -> Objects.requireNonNull(r.get(0, Integer.class)));
	}

	/**
	 * {@code pg_terminate_backend} on each PID, waiting (server side, up to 5 s each) until the backend
	 * has exited; returns how many were terminated.
	 */
	public int terminate(Collection<Integer> pids) {
		int n = 0;
		for (int pid : pids) {
			Boolean done = query("SELECT pg_terminate_backend(" + pid + ", 5000)", r -> r.get(0, Boolean.class))
					.stream().findFirst().orElse(false);
			if (Boolean.TRUE.equals(done)) {
				n++;
			}
		}
		return n;
	}

	/** {@code pg_cancel_backend} on one PID: cancels its running statement, keeps the session; true if signalled. */
	public boolean cancel(int pid) {
		return query("SELECT pg_cancel_backend(" + pid + ")", r -> Boolean.TRUE.equals(r.get(0, Boolean.class)))
				.stream().findFirst().orElse(false);
	}

	/** Terminates every session that carries {@code applicationName}; returns the PIDs it terminated. */
	public List<Integer> terminateAll(String applicationName) {
		List<Integer> pids = pids(applicationName);
		terminate(pids);
		return pids;
	}

	/** Runs SQL (DDL, setup) on the admin connection. */
	public void execute(String sql) {
		Flux.from(admin.createStatement(sql).execute())
				.flatMap(r -> r.getRowsUpdated())
				.then()
				.block(TIMEOUT);
	}

	/** Runs a query on the admin connection and maps every row. */
	public <T> List<T> query(String sql, Function<Readable, T> mapper) {
		List<T> rows = Flux.from(admin.createStatement(sql).execute())
				.concatMap(r -> r.map(mapper))
				.collectList()
				.block(TIMEOUT);
		return Objects.requireNonNull(rows, "rows");
	}

	@Override
	public void close() {
		Mono.from(admin.close()).block(TIMEOUT);
	}

	private static String quote(String literal) {
		return literal.replace("'", "''");
	}
}
