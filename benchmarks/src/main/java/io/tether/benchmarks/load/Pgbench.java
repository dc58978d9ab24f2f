package io.tether.benchmarks.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code pgbench -M prepared} with W1 and W2 as custom scripts: the server's ceiling, a client in C that
 * does nothing but send prepared statements. It has one connection per client, so it runs with
 * min(in flight, pool size) clients, the most server sessions any other peer can keep busy.
 *
 * <p>Its CPU time is read with bash's {@code times} builtin (user + system time of the finished child):
 * the whole measured run including its connection set-up, a few milliseconds.
 */
final class Pgbench {

	private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
	private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");
	private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
	private static final Pattern TIMES = Pattern.compile("(\\d+)m([0-9.]+)s (\\d+)m([0-9.]+)s");

	private final String executable;
	private final Target target;
	private final Path scripts;

	Pgbench(String executable, Target target, Path workDir) throws IOException {
		this.executable = executable;
		this.target = target;
		this.scripts = workDir;
		String w1 = Peer.w1Sql(target, ":a") + ";\n";
		Files.writeString(workDir.resolve("w1.sql"), "\\set a random(1, " + target.users() + ")\n" + w1, StandardCharsets.UTF_8);
		Files.writeString(workDir.resolve("w2.sql"), "\\set a random(1, " + target.users() + ")\n\\set b random(1, "
				+ target.users() + ")\nbegin;\n" + w1 + Peer.w1Sql(target, ":b") + ";\n" + Peer.updateSql(target, ":a")
				+ ";\ncommit;\n", StandardCharsets.UTF_8);
	}

	Result run(int rep, Workload w, Duration warmup, Duration window, Path log) throws IOException, InterruptedException {
		int clients = Math.min(w.inFlight(), target.poolSize());
		// No JIT to warm: a short warm-up only brings the table and the server's plans back into the caches.
		Duration shortWarmup = warmup.compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5) : warmup;
		exec(command(w, clients, shortWarmup), log);
		long[] statStart = ProcStat.read();
		String out = exec(command(w, clients, window), log);
		long[] statEnd = ProcStat.read();
		long processed = find(PROCESSED, out).map(Long::parseLong).orElse(0L);
		double tps = find(TPS, out).map(Double::parseDouble).orElse(0.0);
		long failed = find(FAILED, out).map(Long::parseLong).orElse(0L);
		long cpuNanos = 0;
		Matcher m = TIMES.matcher(out);
		int seen = 0;
		while (m.find()) {
			// bash prints the shell's own times, then its children's: the second line is pgbench.
			if (++seen == 2) {
				cpuNanos = (long) ((Long.parseLong(m.group(1)) * 60 + Double.parseDouble(m.group(2))
						+ Long.parseLong(m.group(3)) * 60 + Double.parseDouble(m.group(4))) * 1e9);
			}
		}
		// ops/s as pgbench reports it (without connection time); the window is what makes ops/window = tps.
		long windowNanos = tps > 0 ? (long) (processed / tps * 1e9) : window.toNanos();
		Map<String, Errors.Cause> errors = failed == 0 ? Map.of()
				: Map.of("pgbench failed transactions", new Errors.Cause(failed, "see " + log));
		if (processed == 0) {
			errors = Map.of("pgbench produced no result", new Errors.Cause(1, Errors.oneLine(out)));
		}
		return new Result(rep, w, Peer.PGBENCH, processed, windowNanos, cpuNanos, ProcStat.busyCores(statStart, statEnd),
				failed, 0, 0, shortWarmup.toMillis(), errors, Double.NaN);
	}

	private List<String> command(Workload w, int clients, Duration duration) {
		return new ArrayList<>(List.of("bash", "-c", "\"$@\"; rc=$?; times; exit $rc", "bash", executable,
				"-n", "-M", "prepared", "-f", scripts.resolve(w.kind() + ".sql").toString(),
				"-c", String.valueOf(clients), "-j", String.valueOf(Math.min(clients, 2)),
				"-T", String.valueOf(Math.max(1, duration.toSeconds())),
				"-h", target.host(), "-p", String.valueOf(target.port()), "-U", target.user(), target.database()));
	}

	private String exec(List<String> command, Path log) throws IOException, InterruptedException {
		ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
		pb.environment().put("PGAPPNAME", "loadbench-pgbench");
		if (target.password() != null) {
			pb.environment().put("PGPASSWORD", target.password());
		}
		Process p = pb.start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		int rc = p.waitFor();
		Files.writeString(log, "$ " + String.join(" ", command) + "\n" + out + "exit " + rc + "\n", StandardCharsets.UTF_8,
				java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
		return out;
	}

	private static java.util.Optional<String> find(Pattern p, String s) {
		Matcher m = p.matcher(s);
		return m.find() ? java.util.Optional.of(m.group(1)) : java.util.Optional.empty();
	}
}
