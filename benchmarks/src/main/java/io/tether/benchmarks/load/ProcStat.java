package io.tether.benchmarks.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine's busy time from {@code /proc/stat} (Linux): {@code busyCores} = busy share × cores. */
final class ProcStat {

	private ProcStat() {
	}

	/** {@code {busy, total}} jiffies of all cores, or {@code {0, 0}} where {@code /proc/stat} is not there. */
	static long[] read() {
		try {
			String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
			String[] f = first.trim().split("\\s+");
			long total = 0;
			for (int i = 1; i < f.length && i <= 8; i++) {
				total += Long.parseLong(f[i]);
			}
			long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
			return new long[] {total - idle, total};
		}
		catch (IOException | RuntimeException e) {
			return new long[] {0, 0};
		}
	}

	static double busyCores(long[] start, long[] end) {
		long total = end[1] - start[1];
		if (total <= 0) {
			return Double.NaN;
		}
		return (double) (end[0] - start[0]) / total * Runtime.getRuntime().availableProcessors();
	}
}
