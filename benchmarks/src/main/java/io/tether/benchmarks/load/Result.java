package io.tether.benchmarks.load;

import java.util.Locale;
import java.util.Map;

/**
 * One measured window of one peer on one workload in one repetition.
 *
 * @param cpuNanos client CPU time in the window (the peer's JVM, or pgbench's process); 0 if unknown
 * @param machineBusyCores cores the whole machine was busy in the window (client, server and whatever else ran)
 * @param jitMillis time the JIT compiler spent in the window (near 0 for a peer that was warm)
 * @param warmupMillis warm-up actually run: the minimum, then on while the JIT was busy (see {@link ClosedLoop})
 * @param errors errors over warm-up and window, by cause
 * @param loadAverage the machine's 1-minute load average right after the window (NaN until the runner sets it)
 */
record Result(int rep, Workload workload, String peer, long ops, long windowNanos, long cpuNanos,
		double machineBusyCores, long errorsInWindow, long gcCount, long jitMillis, long warmupMillis,
		Map<String, Errors.Cause> errors, double loadAverage) {

	static final String TSV_HEADER = "rep\tworkload\tpeer\tops\twindow_s\tops_per_s\tcpu_us_per_op\tclient_cores"
			+ "\tmachine_busy_cores\terrors_in_window\terrors_total\tgc_in_window\tjit_ms_in_window\twarmup_s\tload_average_1m";

	Result withLoadAverage(double load) {
		return new Result(rep, workload, peer, ops, windowNanos, cpuNanos, machineBusyCores, errorsInWindow, gcCount, jitMillis,
				warmupMillis, errors, load);
	}

	double opsPerSecond() {
		return windowNanos == 0 ? 0 : ops * 1e9 / windowNanos;
	}

	double cpuMicrosPerOp() {
		return ops == 0 || cpuNanos == 0 ? Double.NaN : cpuNanos / 1e3 / ops;
	}

	double clientCores() {
		return windowNanos == 0 || cpuNanos == 0 ? Double.NaN : (double) cpuNanos / windowNanos;
	}

	long errorsTotal() {
		return errors.values().stream().mapToLong(Errors.Cause::count).sum();
	}

	String tsv() {
		return String.format(Locale.ROOT, "%d\t%s\t%s\t%d\t%.3f\t%.1f\t%.2f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\t%.1f\t%.2f", rep,
				workload, peer, ops, windowNanos / 1e9, opsPerSecond(), cpuMicrosPerOp(), clientCores(), machineBusyCores,
				errorsInWindow, errorsTotal(), gcCount, jitMillis, warmupMillis / 1e3, loadAverage);
	}
}
