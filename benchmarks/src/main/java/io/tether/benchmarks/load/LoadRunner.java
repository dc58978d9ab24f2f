package io.tether.benchmarks.load;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The PostgreSQL load runner: every peer (see {@link Peer}, and {@link Pgbench}) on every workload (see
 * {@link Workload}), repetition by repetition, each peer in a JVM of its own for the whole run (see
 * {@link PeerProcess}; warm-up and window in that JVM), then a table of medians and same-repetition ratios.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.tether.benchmarks.load.LoadRunner [--option=value ...]
 *   --url=r2dbc:postgresql://...   default: $TETHER_PG_URL, else r2dbc:postgresql://postgres@127.0.0.1:5432/postgres
 *   --warmup=40s --rewarm=10s --window=15s --reps=3   (warm-up before a peer's first W1 and first W2 window,
 *                                  warm-up before later windows; both go on while the JIT is busy)
 *   --workloads=w1:32,w1:4,w2:32   --pool=10   --users=10000   --schema=tether_load
 *   --peers=tether,tether-r2dbc-pool,raw-r2dbc-pool,spring,jdbc-hikari,pgbench   (also: tether-map)
 *   --quick                        = --warmup=10s --rewarm=5s --window=5s --reps=1
 *   --jvm="-Xms512m -Xmx512m"      the peers' JVM options
 *   --jfr=tether:w1:32             after the repetitions, one more window of that peer with a JFR recording
 *                                  (not in the table: starting JFR costs JIT time), summarised by top frames
 *   --out=benchmarks/results/load-DATE.txt   (raw rows also in the same name with .tsv)
 * </pre>
 *
 * The runner creates its table in {@code --schema} (dropped first if it exists) and drops the schema at the end.
 */
public final class LoadRunner {

	private LoadRunner() {
	}

	public static void main(String[] args) throws Exception {
		Map<String, String> o = parse(args);
		if (o.containsKey("serve")) {
			serve(o);
			return;
		}
		if (o.containsKey("summarise-jfr")) {
			JfrSummary.main(new String[] {o.get("summarise-jfr"), o.getOrDefault("top", "25")});
			return;
		}
		boolean quick = o.containsKey("quick");
		Duration warmup = duration(o.getOrDefault("warmup", quick ? "10s" : "40s"));
		Duration rewarm = duration(o.getOrDefault("rewarm", quick ? "5s" : "10s"));
		Duration window = duration(o.getOrDefault("window", quick ? "5s" : "15s"));
		int reps = Integer.parseInt(o.getOrDefault("reps", quick ? "1" : "3"));
		List<Workload> workloads = Arrays.stream(o.getOrDefault("workloads", "w1:32,w1:4,w2:32").split(","))
				.map(Workload::parse).toList();
		List<String> peers = List.of(o.getOrDefault("peers", String.join(",", Peer.NAMES) + "," + Peer.PGBENCH).split(","));
		for (String p : peers) {
			if (!Peer.NAMES.contains(p) && !Peer.OPTIONAL.contains(p) && !p.equals(Peer.PGBENCH)) {
				throw new IllegalArgumentException("unknown peer " + p + ", expected one of " + Peer.NAMES + ", "
						+ Peer.OPTIONAL + " or " + Peer.PGBENCH);
			}
		}
		Target target = target(o);
		String stamp = LocalDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmm"));
		Path out = Path.of(o.getOrDefault("out", "benchmarks/results/load-" + stamp + ".txt"));
		Path tsv = Path.of(out.toString().replaceFirst("\\.txt$", "") + ".tsv");
		Path work = Files.createTempDirectory("tether-loadbench-");
		List<String> jvm = List.of(o.getOrDefault("jvm", "-Xms512m -Xmx512m").trim().split("\\s+"));
		String jfr = o.get("jfr");

		Files.createDirectories(out.toAbsolutePath().getParent());
		Conditions conditions = Conditions.capture(target, o, warmup, rewarm, window, reps, workloads, peers, jvm);
		System.out.println(conditions.text());
		System.out.println("logs of every run: " + work);
		Files.writeString(tsv, Result.TSV_HEADER + "\n", StandardCharsets.UTF_8);

		List<Result> results = new ArrayList<>();
		createSchema(target);
		// A run stopped with Ctrl-C still drops its schema (the finally below does not run then).
		Thread dropOnExit = new Thread(() -> {
			try {
				dropSchema(target);
			}
			catch (SQLException e) {
				System.err.println("could not drop schema " + target.schema() + ": " + e.getMessage());
			}
		}, "loadbench-drop-schema");
		Runtime.getRuntime().addShutdownHook(dropOnExit);
		Map<String, PeerProcess> processes = new LinkedHashMap<>();
		try {
			Pgbench pgbench = peers.contains(Peer.PGBENCH) ? new Pgbench(o.getOrDefault("pgbench", "/usr/bin/pgbench"), target, work) : null;
			for (String peer : peers) {
				if (!peer.equals(Peer.PGBENCH)) {
					processes.put(peer, PeerProcess.start(peer, target, jvm, work.resolve(peer + ".log")));
				}
			}
			java.util.Set<String> warmed = new java.util.HashSet<>();
			for (int rep = 1; rep <= reps; rep++) {
				for (Workload w : workloads) {
					// Rotate the order each repetition so that no peer always runs right after the same neighbour.
					List<String> order = new ArrayList<>(peers);
					java.util.Collections.rotate(order, -(rep - 1));
					for (String peer : order) {
						Result r;
						if (peer.equals(Peer.PGBENCH)) {
							r = pgbench.run(rep, w, warmup, window, work.resolve("pgbench.log"));
						}
						else {
							// The first measurement of a peer on W1 or W2 warms its JVM; later ones only refill
							// caches and the pool (and go on while the JIT is still busy, see ClosedLoop).
							r = processes.get(peer).run(rep, w, warmed.add(peer + w.kind()) ? warmup : rewarm, window, null);
						}
						r = r.withLoadAverage(Conditions.loadAverage1());
						results.add(r);
						Files.writeString(tsv, r.tsv() + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
						System.out.printf(Locale.ROOT, "rep %d %-6s %-18s %,10.0f ops/s %8.1f µs CPU/op %5.2f client cores %5.2f machine cores"
								+ " %d errors, warm-up %.0f s, JIT %d ms in window, load average %.1f%n", rep, w, peer, r.opsPerSecond(),
								r.cpuMicrosPerOp(), r.clientCores(), r.machineBusyCores(), r.errorsTotal(), r.warmupMillis() / 1e3,
								r.jitMillis(), r.loadAverage());
					}
				}
			}
			if (jfr != null) {
				profile(jfr, processes, rewarm, window, work, out);
			}
		}
		finally {
			for (PeerProcess p : processes.values()) {
				p.close();
			}
			dropSchema(target);
			Runtime.getRuntime().removeShutdownHook(dropOnExit);
		}
		String report = conditions.text() + "finished  " + LocalDateTime.now(ZoneOffset.UTC) + " UTC, load average "
				+ Conditions.loadAverage() + "; busiest " + Conditions.busiestProcesses() + "\n\n" + Report.table(results, workloads, peers) + "\n" + Report.errors(results)
				+ "\nraw results (also in " + tsv.getFileName() + ")\n" + Result.TSV_HEADER + "\n"
				+ String.join("\n", results.stream().map(Result::tsv).toList()) + "\n";
		Files.writeString(out, report, StandardCharsets.UTF_8);
		System.out.println();
		System.out.println(Report.table(results, workloads, peers));
		System.out.println(Report.errors(results));
		System.out.println("written: " + out + " and " + tsv);
	}

	/** One more window of {@code peer:workload} with a JFR recording, summarised beside {@code out}; not a result. */
	private static void profile(String jfr, Map<String, PeerProcess> processes, Duration rewarm, Duration window, Path work,
			Path out) throws IOException {
		int colon = jfr.indexOf(':');
		String peer = colon < 0 ? jfr : jfr.substring(0, colon);
		Workload w = Workload.parse(colon < 0 ? "w1:32" : jfr.substring(colon + 1));
		PeerProcess p = processes.get(peer);
		if (p == null) {
			System.out.println("--jfr names " + peer + ", which did not run: no profile");
			return;
		}
		String name = peer + "-" + w.kind() + "-" + w.inFlight();
		Path recording = work.resolve("jfr-" + name + ".jfr");
		Result r = p.run(0, w, rewarm, window, recording);
		Path summary = out.resolveSibling(out.getFileName().toString().replaceFirst("\\.txt$", "") + "-jfr-" + name + ".txt");
		Files.writeString(summary, String.format(Locale.ROOT, "profiled window: %,.0f ops/s, %.1f µs CPU/op, JIT %d ms (not in the table)%n",
				r.opsPerSecond(), r.cpuMicrosPerOp(), r.jitMillis()) + JfrSummary.summarise(recording, 25), StandardCharsets.UTF_8);
		System.out.println("JFR summary: " + summary + " (recording " + recording + ")");
	}

	private static Target target(Map<String, String> o) {
		String url = o.getOrDefault("url", System.getenv().getOrDefault("TETHER_PG_URL",
				"r2dbc:postgresql://postgres@127.0.0.1:5432/postgres"));
		return Target.of(url, Integer.parseInt(o.getOrDefault("pool", "10")), o.getOrDefault("schema", "tether_load"),
				Integer.parseInt(o.getOrDefault("users", "10000")));
	}

	// ---------------------------------------------------------------- a peer's JVM

	/** The peer side of {@link PeerProcess}: open the peer once, measure what the runner asks for, close it on QUIT. */
	private static void serve(Map<String, String> o) throws Exception {
		Target target = target(o);
		java.io.BufferedReader commands = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
		PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
		try (Peer peer = Peer.open(o.get("peer"), target)) {
			for (String line = commands.readLine(); line != null && !line.equals("QUIT"); line = commands.readLine()) {
				String[] f = line.split("\t");
				Workload w = Workload.parse(f[1]);
				ClosedLoop loop = new ClosedLoop(w, target.users());
				ClosedLoop.Window m = loop.run(peer, Duration.ofMillis(Long.parseLong(f[2])), Duration.ofMillis(Long.parseLong(f[3])),
						Duration.ofSeconds(30), f[4].equals("-") ? null : Path.of(f[4]));
				out.printf(Locale.ROOT, "RESULT\t%d\t%d\t%d\t%.4f\t%d\t%d\t%d\t%d%n", m.ops(), m.nanos(), m.cpuNanos(),
						m.machineBusyCores(), m.errorsInWindow(), m.gcCount(), m.jitMillis(), m.warmupMillis());
				loop.errors().causes().forEach((k, c) -> out.println("CAUSE\t" + c.count() + "\t" + Errors.oneLine(k) + "\t" + c.firstMessage()));
				out.println("END");
			}
		}
		catch (Exception e) {
			// Tell the runner (it reads until END) rather than leave it waiting.
			out.println("the peer failed: " + Errors.oneLine(String.valueOf(e)));
			out.println("END");
		}
		// Daemon threads of a peer that did not stop (a stuck pool) must not keep this JVM alive.
		System.exit(0);
	}

	// ---------------------------------------------------------------- schema

	private static Connection jdbc(Target t) throws SQLException {
		Properties p = new Properties();
		p.setProperty("user", t.user());
		if (t.password() != null) {
			p.setProperty("password", t.password());
		}
		p.setProperty("ApplicationName", "loadbench-setup");
		return DriverManager.getConnection(t.jdbcUrl(), p);
	}

	private static void createSchema(Target t) throws SQLException {
		try (Connection c = jdbc(t); Statement s = c.createStatement()) {
			s.execute("drop schema if exists " + t.schema() + " cascade");
			s.execute("create schema " + t.schema());
			s.execute("create table " + t.table() + " (id bigint primary key, email text not null, is_active boolean not null,"
					+ " login_count bigint not null default 0)");
			s.execute("insert into " + t.table() + " (id, email, is_active) select g, 'user' || g || '@example.com', g % 10 <> 0"
					+ " from generate_series(1, " + t.users() + ") g");
			s.execute("analyze " + t.table());
		}
	}

	private static void dropSchema(Target t) throws SQLException {
		try (Connection c = jdbc(t); Statement s = c.createStatement()) {
			s.execute("drop schema if exists " + t.schema() + " cascade");
		}
	}

	static String serverVersion(Target t) {
		try (Connection c = jdbc(t); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select version()")) {
			rs.next();
			return rs.getString(1);
		}
		catch (SQLException e) {
			return "unknown (" + e.getMessage() + ")";
		}
	}

	static int otherSessions(Target t) {
		try (Connection c = jdbc(t); Statement s = c.createStatement();
				ResultSet rs = s.executeQuery("select count(*) from pg_stat_activity where backend_type = 'client backend'"
						+ " and pid <> pg_backend_pid() and coalesce(application_name, '') not like 'loadbench-%'")) {
			rs.next();
			return rs.getInt(1);
		}
		catch (SQLException e) {
			return -1;
		}
	}

	// ---------------------------------------------------------------- options

	static Map<String, String> parse(String[] args) {
		Map<String, String> o = new LinkedHashMap<>();
		for (String a : args) {
			if (!a.startsWith("--")) {
				throw new IllegalArgumentException("options are --name=value, was " + a);
			}
			int eq = a.indexOf('=');
			o.put(eq < 0 ? a.substring(2) : a.substring(2, eq), eq < 0 ? "" : a.substring(eq + 1));
		}
		return o;
	}

	/** {@code 40s}, {@code 2m}, {@code 500ms}. */
	static Duration duration(String s) {
		String t = s.trim().toLowerCase(Locale.ROOT);
		if (t.endsWith("ms")) {
			return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
		}
		if (t.endsWith("s")) {
			return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
		}
		if (t.endsWith("m")) {
			return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
		}
		throw new IllegalArgumentException("a duration is like 40s, 2m or 500ms, was " + s);
	}
}
