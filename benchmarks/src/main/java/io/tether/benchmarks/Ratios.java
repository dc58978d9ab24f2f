package io.tether.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Reads a JMH JSON result of {@link ScopeOverheadBenchmark}, {@link PoolBenchmark} or
 * {@link DatabaseApiBenchmark} (or several of them in one file) and prints, for each benchmark and each set of
 * parameters, the scores and the ratios listed in {@link #COMPARISONS}: for example, per {@code n},
 * {@code tether_scope / raw_usingWhenAroundAll} and {@code tether_scope / raw_usingWhenPerStatement}.
 *
 * <p>Error bars: JMH's {@code scoreError} is the half-width of the 99.9% confidence interval of a score. For
 * a ratio {@code r = x / y} the relative half-widths are combined in quadrature,
 * {@code err(r) / r = sqrt((err(x) / x)^2 + (err(y) / y)^2)}, which assumes the two scores are independent
 * (they are measured in separate iterations of one fork). If the result holds JMH's {@code gc.alloc.rate.norm}
 * (run with {@code -prof gc}), the bytes allocated per operation are printed too, with the difference for
 * each comparison.
 *
 * <pre>{@code java -cp benchmarks/target/benchmarks.jar io.tether.benchmarks.Ratios benchmarks/results/scope-overhead.json}</pre>
 */
public final class Ratios {

	static final String PER_STATEMENT = "raw_usingWhenPerStatement";
	static final String AROUND_ALL = "raw_usingWhenAroundAll";
	static final String TETHER = "tether_scope";

	/** {@code label}: the score of variant {@code x} over the score of variant {@code y}. */
	record Comparison(String label, String x, String y) {
	}

	/** Benchmark class (simple name) to the ratios worth printing for it, numerator first. */
	static final Map<String, List<Comparison>> COMPARISONS = Map.of(
			"ScopeOverheadBenchmark", List.of(
					new Comparison("(c)/(b) tether / aroundAll", TETHER, AROUND_ALL),
					new Comparison("(c)/(a) tether / perStatement", TETHER, PER_STATEMENT)),
			"PoolBenchmark", poolComparisons(),
			"DatabaseApiBenchmark", databaseApiComparisons());

	private static List<Comparison> poolComparisons() {
		List<Comparison> l = new ArrayList<>();
		for (String suffix : List.of("", "_contended")) {
			String r2dbc = "r2dbcPool" + suffix;
			String never = "tetherPool_noValidation" + suffix;
			String dflt = "tetherPool_defaultValidation" + suffix;
			String tag = suffix.isEmpty() ? "" : " (8 threads)";
			l.add(new Comparison("(b)/(a) tether NEVER / r2dbc-pool" + tag, never, r2dbc));
			l.add(new Comparison("(c)/(a) tether default / r2dbc-pool" + tag, dflt, r2dbc));
			l.add(new Comparison("(c)/(b) tether default / NEVER" + tag, dflt, never));
		}
		return List.copyOf(l);
	}

	private static List<Comparison> databaseApiComparisons() {
		List<Comparison> l = new ArrayList<>();
		for (String suffix : List.of("_one", "_all100")) {
			String raw = "raw" + suffix;
			String mapTo = "tether_mapTo" + suffix;
			String map = "tether_map" + suffix;
			String tag = " " + suffix.substring(1);
			l.add(new Comparison("(b)/(a) mapTo / raw" + tag, mapTo, raw));
			l.add(new Comparison("(c)/(a) map / raw" + tag, map, raw));
			l.add(new Comparison("(b)/(c) mapTo / map" + tag, mapTo, map));
		}
		return List.copyOf(l);
	}

	private Ratios() {
	}

	public static void main(String[] args) throws IOException {
		if (args.length != 1) {
			System.err.println("usage: Ratios <jmh-result.json>");
			System.exit(2);
		}
		String json = Files.readString(Path.of(args[0]), StandardCharsets.UTF_8);
		System.out.print(report(json));
	}

	/**
	 * A score with the half-width of its confidence interval; NaN when JMH could not compute one (a single
	 * iteration), and then NaN in every ratio made from it: an unknown error is not a zero error.
	 */
	record Score(double value, double error, String unit) {

		double relativeError() {
			return error / value;
		}

		Score over(Score other) {
			double r = value / other.value;
			double rel = Math.sqrt(square(relativeError()) + square(other.relativeError()));
			return new Score(r, r * rel, "");
		}

		private static double square(double d) {
			return d * d;
		}
	}

	/** The runs of one benchmark class with one set of parameters, e.g. {@code ScopeOverheadBenchmark n=1}. */
	record Group(String benchmark, String params) implements Comparable<Group> {

		@Override
		public int compareTo(Group o) {
			int c = benchmark.compareTo(o.benchmark);
			return c != 0 ? c : compareNumerically(params, o.params);
		}

		@Override
		public String toString() {
			return params.isEmpty() ? benchmark : benchmark + " " + params;
		}
	}

	static String report(String json) {
		// group -> variant -> score
		Map<Group, Map<String, Score>> time = new TreeMap<>();
		Map<Group, Map<String, Score>> alloc = new TreeMap<>();
		for (Object o : (List<?>) new Parser(json).parse()) {
			Map<?, ?> run = (Map<?, ?>) o;
			String benchmark = (String) run.get("benchmark");
			String variant = benchmark.substring(benchmark.lastIndexOf('.') + 1);
			String owner = benchmark.substring(0, benchmark.lastIndexOf('.'));
			Group group = new Group(owner.substring(owner.lastIndexOf('.') + 1), params((Map<?, ?>) run.get("params")));
			time.computeIfAbsent(group, k -> new LinkedHashMap<>()).put(variant, score((Map<?, ?>) run.get("primaryMetric")));
			Map<?, ?> secondary = (Map<?, ?>) run.get("secondaryMetrics");
			if (secondary != null && secondary.get("gc.alloc.rate.norm") instanceof Map<?, ?> m) {
				alloc.computeIfAbsent(group, k -> new LinkedHashMap<>()).put(variant, score(m));
			}
		}
		StringBuilder out = new StringBuilder();
		time.forEach((group, variants) -> {
			out.append(group).append(System.lineSeparator());
			variants.forEach((v, s) -> out.append(String.format(Locale.ROOT, "  %-50s %10.3f ± %7.3f %s%n", v,
					s.value(), s.error(), s.unit())));
			for (Comparison c : COMPARISONS.getOrDefault(group.benchmark(), List.of())) {
				ratio(out, c.label(), variants.get(c.x()), variants.get(c.y()));
			}
			Map<String, Score> bytes = alloc.get(group);
			if (bytes != null) {
				out.append("  allocation per operation (gc.alloc.rate.norm)").append(System.lineSeparator());
				bytes.forEach((v, s) -> out.append(String.format(Locale.ROOT, "  %-50s %10.0f %s%n", v, s.value(), s.unit())));
				for (Comparison c : COMPARISONS.getOrDefault(group.benchmark(), List.of())) {
					Score x = bytes.get(c.x());
					Score y = bytes.get(c.y());
					if (x != null && y != null) {
						out.append(String.format(Locale.ROOT, "  %-50s %+10.0f B/op%n", c.label().replace("/", "-"),
								x.value() - y.value()));
					}
				}
			}
			out.append(System.lineSeparator());
		});
		return out.toString();
	}

	private static String params(@Nullable Map<?, ?> params) {
		if (params == null) {
			return "";
		}
		StringBuilder b = new StringBuilder();
		params.forEach((k, v) -> b.append(b.length() == 0 ? "" : " ").append(k).append('=').append(v));
		return b.toString();
	}

	private static void ratio(StringBuilder out, String label, @Nullable Score x, @Nullable Score y) {
		if (x == null || y == null) {
			return;
		}
		Score r = x.over(y);
		out.append(String.format(Locale.ROOT, "  %-50s %.4f ± %.4f  (%+.1f%% ± %.1f%%)%n", label,
				r.value(), r.error(), (r.value() - 1) * 100, r.error() * 100));
	}

	private static Score score(Map<?, ?> metric) {
		return new Score(number(metric.get("score")), number(metric.get("scoreError")),
				String.valueOf(metric.get("scoreUnit")));
	}

	private static double number(@Nullable Object o) {
		if (o instanceof Double d) {
			return d;
		}
		if (o instanceof String s) {
			// JMH writes "NaN" (quoted) when there are too few iterations for an interval.
			return Double.parseDouble(s);
		}
		return Double.NaN;
	}

	/** Orders {@code n=5} before {@code n=20}: by the numbers after the last {@code =} if both have one. */
	private static int compareNumerically(String a, String b) {
		int ea = a.lastIndexOf('=');
		int eb = b.lastIndexOf('=');
		try {
			int c = a.substring(0, ea + 1).compareTo(b.substring(0, eb + 1));
			return c != 0 ? c : Integer.compare(Integer.parseInt(a.substring(ea + 1)), Integer.parseInt(b.substring(eb + 1)));
		}
		catch (NumberFormatException e) {
			return a.compareTo(b);
		}
	}

	/** Just enough JSON for JMH's result files: objects, arrays, strings, numbers, true, false, null. */
	static final class Parser {

		private final String s;
		private int i;

		Parser(String s) {
			this.s = s;
		}

		@Nullable Object parse() {
			Object v = value();
			skipSpace();
			if (i != s.length()) {
				throw error("trailing characters");
			}
			return v;
		}

		private @Nullable Object value() {
			skipSpace();
			if (i >= s.length()) {
				throw error("unexpected end");
			}
			char c = s.charAt(i);
			switch (c) {
				case '{':
					return object();
				case '[':
					return array();
				case '"':
					return string();
				case 't':
					return literal("true", Boolean.TRUE);
				case 'f':
					return literal("false", Boolean.FALSE);
				case 'n':
					return literal("null", null);
				default:
					return number();
			}
		}

		private Map<String, @Nullable Object> object() {
			Map<String, @Nullable Object> m = new LinkedHashMap<>();
			i++;
			skipSpace();
			if (peek() == '}') {
				i++;
				return m;
			}
			for (;;) {
				skipSpace();
				String key = string();
				skipSpace();
				expect(':');
				m.put(key, value());
				skipSpace();
				if (peek() == ',') {
					i++;
					continue;
				}
				expect('}');
				return m;
			}
		}

		private List<@Nullable Object> array() {
			List<@Nullable Object> l = new ArrayList<>();
			i++;
			skipSpace();
			if (peek() == ']') {
				i++;
				return l;
			}
			for (;;) {
				l.add(value());
				skipSpace();
				if (peek() == ',') {
					i++;
					continue;
				}
				expect(']');
				return l;
			}
		}

		private String string() {
			expect('"');
			StringBuilder b = new StringBuilder();
			for (;;) {
				char c = s.charAt(i++);
				if (c == '"') {
					return b.toString();
				}
				if (c == '\\') {
					char e = s.charAt(i++);
					switch (e) {
						case 'n' -> b.append('\n');
						case 't' -> b.append('\t');
						case 'r' -> b.append('\r');
						case 'b' -> b.append('\b');
						case 'f' -> b.append('\f');
						case 'u' -> {
							b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
							i += 4;
						}
						default -> b.append(e);
					}
				}
				else {
					b.append(c);
				}
			}
		}

		private Double number() {
			int start = i;
			while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
				i++;
			}
			if (start == i) {
				throw error("unexpected character '" + s.charAt(i) + "'");
			}
			return Double.valueOf(s.substring(start, i));
		}

		private @Nullable Object literal(String word, @Nullable Object v) {
			if (!s.startsWith(word, i)) {
				throw error("expected " + word);
			}
			i += word.length();
			return v;
		}

		private char peek() {
			return i < s.length() ? s.charAt(i) : '\0';
		}

		private void expect(char c) {
			if (peek() != c) {
				throw error("expected '" + c + "'");
			}
			i++;
		}

		private void skipSpace() {
			while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
				i++;
			}
		}

		private IllegalArgumentException error(String what) {
			return new IllegalArgumentException("Not a JMH JSON result: " + what + " at offset " + i);
		}
	}
}
