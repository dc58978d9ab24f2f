package io.tether.benchmarks.load;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * The table: per workload and peer the median over repetitions, and ratios against raw r2dbc-pool and against
 * Spring computed per repetition (both measured minutes apart at most) and then their median.
 */
final class Report {

	static final String RAW = "raw-r2dbc-pool";
	static final String SPRING = "spring";

	private Report() {
	}

	static String table(List<Result> results, List<Workload> workloads, List<String> peers) {
		StringBuilder b = new StringBuilder();
		for (Workload w : workloads) {
			b.append(String.format(Locale.ROOT, "%s, %d in flight: median of repetitions [min-max]; ratios of ops/s per repetition, then their median%n",
					w.kind().toUpperCase(Locale.ROOT), w.inFlight()));
			b.append(String.format(Locale.ROOT, "  %-18s %-26s %10s %7s %8s %8s %8s %10s %7s%n", "peer", "ops/s", "CPU µs/op",
					"client", "machine", "x raw", "x spring", "CPU x raw", "errors"));
			for (String p : peers) {
				List<Result> rs = of(results, w, p);
				if (rs.isEmpty()) {
					continue;
				}
				double[] ops = values(rs, Result::opsPerSecond);
				b.append(String.format(Locale.ROOT, "  %-18s %-26s %10.1f %7.2f %8.2f %8s %8s %10s %7d%n", p,
						String.format(Locale.ROOT, "%,.0f [%,.0f-%,.0f]", median(ops), min(ops), max(ops)),
						median(values(rs, Result::cpuMicrosPerOp)), median(values(rs, Result::clientCores)),
						median(values(rs, Result::machineBusyCores)),
						fmt(ratio(results, w, p, RAW, Result::opsPerSecond)), fmt(ratio(results, w, p, SPRING, Result::opsPerSecond)),
						fmt(ratio(results, w, p, RAW, Result::cpuMicrosPerOp)),
						rs.stream().mapToLong(Result::errorsTotal).sum()));
			}
			b.append('\n');
		}
		b.append("Markdown, ops/s (client CPU µs/op), medians:\n\n");
		markdownHeader(b, "peer", workloads);
		for (String p : peers) {
			b.append("| ").append(p).append(" |");
			for (Workload w : workloads) {
				List<Result> rs = of(results, w, p);
				b.append(rs.isEmpty() ? " — |" : String.format(Locale.ROOT, " %,.0f (%.1f) |", median(values(rs, Result::opsPerSecond)),
						median(values(rs, Result::cpuMicrosPerOp))));
			}
			b.append('\n');
		}
		b.append("\nMarkdown, ratios of ops/s (median of per-repetition ratios):\n\n");
		markdownHeader(b, "ratio", workloads);
		for (String ref : List.of(RAW, SPRING)) {
			for (String p : peers) {
				if (p.equals(ref) || !peers.contains(ref)) {
					continue;
				}
				b.append("| ").append(p).append(" / ").append(ref).append(" |");
				for (Workload w : workloads) {
					b.append(' ').append(fmt(ratio(results, w, p, ref, Result::opsPerSecond))).append(" |");
				}
				b.append('\n');
			}
		}
		return b.toString();
	}

	private static void markdownHeader(StringBuilder b, String first, List<Workload> workloads) {
		b.append("| ").append(first).append(" |");
		workloads.forEach(w -> b.append(' ').append(w.kind().toUpperCase(Locale.ROOT)).append(", ").append(w.inFlight()).append(" in flight |"));
		b.append("\n|---|");
		workloads.forEach(w -> b.append("---|"));
		b.append('\n');
	}

	static String errors(List<Result> results) {
		Map<String, long[]> counts = new LinkedHashMap<>();
		Map<String, String> first = new LinkedHashMap<>();
		for (Result r : results) {
			r.errors().forEach((cause, c) -> {
				String key = r.peer() + " " + r.workload() + ": " + cause;
				counts.computeIfAbsent(key, k -> new long[1])[0] += c.count();
				first.putIfAbsent(key, c.firstMessage());
			});
		}
		if (counts.isEmpty()) {
			return "errors: none\n";
		}
		StringBuilder b = new StringBuilder("errors by peer, workload and cause (count, first message):\n");
		counts.forEach((k, n) -> b.append("  ").append(k).append(": ").append(n[0]).append(", ").append(first.get(k)).append('\n'));
		return b.toString();
	}

	private static List<Result> of(List<Result> results, Workload w, String peer) {
		return results.stream().filter(r -> r.workload().equals(w) && r.peer().equals(peer) && r.ops() > 0).toList();
	}

	/** Median over repetitions of peer/ref in the same repetition; NaN if they never ran in the same one. */
	static double ratio(List<Result> results, Workload w, String peer, String ref, ToDoubleFunction<Result> f) {
		List<Double> ratios = new ArrayList<>();
		for (Result r : of(results, w, peer)) {
			of(results, w, ref).stream().filter(x -> x.rep() == r.rep()).findFirst()
					.ifPresent(x -> ratios.add(f.applyAsDouble(r) / f.applyAsDouble(x)));
		}
		return median(ratios.stream().filter(Objects::nonNull).mapToDouble(Double::doubleValue).filter(d -> !Double.isNaN(d)).toArray());
	}

	private static double[] values(List<Result> rs, ToDoubleFunction<Result> f) {
		return rs.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).toArray();
	}

	static double median(double[] v) {
		if (v.length == 0) {
			return Double.NaN;
		}
		List<Double> s = new ArrayList<>();
		for (double d : v) {
			s.add(d);
		}
		Collections.sort(s);
		int n = s.size();
		return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
	}

	private static double min(double[] v) {
		return java.util.Arrays.stream(v).min().orElse(Double.NaN);
	}

	private static double max(double[] v) {
		return java.util.Arrays.stream(v).max().orElse(Double.NaN);
	}

	private static String fmt(double ratio) {
		return Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2f", ratio);
	}
}
