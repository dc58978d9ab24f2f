package io.tether.benchmarks.load;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One peer in a JVM of its own for the whole run, told over its standard input what to measure next. The
 * JVM stays up between measurements so that its JIT work is paid once, not once per repetition (on a busy
 * 2-core machine warming a reactive stack takes tens of seconds); the peer's pool stays open but idle while
 * the other peers run. Everything the JVM prints goes to {@code log}.
 *
 * <p>Protocol: the runner writes {@code RUN<TAB>workload<TAB>warm-up ms<TAB>window ms<TAB>JFR file or -};
 * the JVM answers with log lines, one {@code RESULT} line, {@code CAUSE} lines and {@code END}.
 * {@code QUIT} closes the peer and ends the JVM.
 */
final class PeerProcess implements AutoCloseable {

	private final String peer;
	private final Process process;
	private final BufferedWriter in;
	private final BufferedReader out;
	private final Path log;

	private PeerProcess(String peer, Process process, Path log) {
		this.peer = peer;
		this.process = process;
		this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
		this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
		this.log = log;
	}

	static PeerProcess start(String peer, Target target, List<String> jvm, Path log) throws IOException {
		List<String> cmd = new ArrayList<>();
		cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		cmd.addAll(jvm);
		cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), LoadRunner.class.getName(), "--serve",
				"--peer=" + peer, "--pool=" + target.poolSize(), "--schema=" + target.schema(), "--users=" + target.users()));
		ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
		// The URL goes by the environment, not the command line, where ps would show a password in it.
		pb.environment().put("TETHER_PG_URL", target.r2dbcUrl());
		return new PeerProcess(peer, pb.start(), log);
	}

	Result run(int rep, Workload w, Duration warmup, Duration window, @Nullable Path jfr) throws IOException {
		List<String> lines = new ArrayList<>();
		try {
			in.write("RUN\t" + w + "\t" + warmup.toMillis() + "\t" + window.toMillis() + "\t" + (jfr == null ? "-" : jfr) + "\n");
			in.flush();
			for (String line = out.readLine(); line != null && !line.equals("END"); line = out.readLine()) {
				lines.add(line);
			}
		}
		catch (IOException e) {
			lines.add("the runner lost the peer's JVM: " + e);
		}
		Files.write(log, prefixed("rep " + rep + " " + w, lines), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
				StandardOpenOption.APPEND);
		long[] v = null;
		Map<String, Errors.Cause> causes = new LinkedHashMap<>();
		for (String line : lines) {
			String[] f = line.split("\t", -1);
			if (f[0].equals("RESULT") && f.length == 9) {
				v = new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
						Double.doubleToLongBits(Double.parseDouble(f[4])), Long.parseLong(f[5]), Long.parseLong(f[6]),
						Long.parseLong(f[7]), Long.parseLong(f[8])};
			}
			else if (f[0].equals("CAUSE") && f.length == 4) {
				causes.put(f[2], new Errors.Cause(Long.parseLong(f[1]), f[3]));
			}
		}
		if (v == null) {
			String tail = String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
			causes.put("the peer's JVM gave no result", new Errors.Cause(1, Errors.oneLine(tail) + " (log " + log + ")"));
			return new Result(rep, w, peer, 0, window.toNanos(), 0, Double.NaN, 1, 0, 0, 0, causes, Double.NaN);
		}
		return new Result(rep, w, peer, v[0], v[1], v[2], Double.longBitsToDouble(v[3]), v[4], v[5], v[6], v[7], causes, Double.NaN);
	}

	private static List<String> prefixed(String prefix, List<String> lines) {
		return lines.stream().map(l -> prefix + ": " + l).toList();
	}

	@Override
	public void close() throws IOException, InterruptedException {
		try {
			in.write("QUIT\n");
			in.flush();
		}
		catch (IOException e) {
			// already gone
		}
		List<String> rest = new ArrayList<>();
		for (String line = out.readLine(); line != null; line = out.readLine()) {
			rest.add(line);
		}
		Files.write(log, prefixed("quit", rest), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
		if (!process.waitFor(30, TimeUnit.SECONDS)) {
			process.destroyForcibly();
		}
	}
}
