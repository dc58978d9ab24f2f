package io.tether.benchmarks.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/** What the run was and what the machine looked like when it started: the header of the results file. */
record Conditions(String text) {

	static Conditions capture(Target t, Map<String, String> options, Duration warmup, Duration rewarm, Duration window, int reps,
			List<Workload> workloads, List<String> peers, List<String> jvm) {
		Runtime rt = Runtime.getRuntime();
		String s = "Tether load runner (io.tether.benchmarks.load.LoadRunner)\n"
				+ "started   " + LocalDateTime.now(ZoneOffset.UTC) + " UTC\n"
				+ "machine   " + rt.availableProcessors() + " cores, " + memory() + ", " + System.getProperty("os.name") + " "
				+ System.getProperty("os.version") + ", load average " + loadAverage() + "\n"
				+ "java      " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", peers' JVM options "
				+ String.join(" ", jvm) + "\n"
				+ "server    " + LoadRunner.serverVersion(t) + " at " + t.host() + ":" + t.port() + "/" + t.database()
				+ "; other client sessions on the server at start: " + LoadRunner.otherSessions(t) + "\n"
				+ "run       one JVM per peer for the whole run; warm-up " + warmup.toSeconds() + " s before a peer's first W1 and first W2 window, "
				+ rewarm.toSeconds() + " s before later ones (both go on while the JIT is busy, up to 2x + 10 s), then a "
				+ window.toSeconds() + " s window;\n          " + reps
				+ " repetitions interleaved across peers (order rotated each repetition), workloads " + workloads + "\n"
				+ "peers     " + peers + "; every pool " + t.poolSize() + " connections; " + t.users() + " users in "
				+ t.table() + (options.isEmpty() ? "" : "\noptions   " + options) + "\n"
				+ "busiest   " + busiestProcesses() + "\n";
		return new Conditions(s);
	}

	static String loadAverage() {
		try {
			String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
			return f[0] + " " + f[1] + " " + f[2];
		}
		catch (IOException | RuntimeException e) {
			return "unknown";
		}
	}

	/** The busiest processes by name and lifetime CPU share ({@code ps}), to show what else the machine was running. */
	static String busiestProcesses() {
		try {
			Process p = new ProcessBuilder("ps", "-eo", "pcpu=,comm=", "--sort=-pcpu").redirectErrorStream(true).start();
			List<String> lines = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
					.map(String::trim).filter(l -> !l.isEmpty()).limit(10).toList();
			p.waitFor();
			return String.join(", ", lines.stream().map(l -> l.replaceFirst("^(\\S+)\\s+(.*)$", "$2 $1%")).toList());
		}
		catch (IOException | RuntimeException e) {
			return "unknown (" + e.getMessage() + ")";
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return "unknown";
		}
	}

	static double loadAverage1() {
		try {
			return Double.parseDouble(loadAverage().split(" ")[0]);
		}
		catch (NumberFormatException e) {
			return Double.NaN;
		}
	}

	private static String memory() {
		try {
			for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
				if (line.startsWith("MemTotal:")) {
					return Long.parseLong(line.replaceAll("\\D", "")) / 1024 / 1024 + " GiB RAM";
				}
			}
		}
		catch (IOException | RuntimeException e) {
			// not Linux: leave it out
		}
		return "RAM unknown";
	}
}
