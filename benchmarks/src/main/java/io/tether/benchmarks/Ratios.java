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
 * Reads a JMH JSON result of {@link ScopeOverheadBenchmark} and prints, for each {@code n}, the ratios
 * {@code tether_scope / raw_usingWhenAroundAll} and {@code tether_scope / raw_usingWhenPerStatement}.
 *
 * <p>Error bars: JMH's {@code scoreError} is the half-width of the 99.9% confidence interval of a score. For
 * a ratio {@code r = x / y} the relative half-widths are combined in quadrature,
 * {@code err(r) / r = sqrt((err(x) / x)^2 + (err(y) / y)^2)}, which assumes the two scores are independent
 * (they are measured in separate iterations of one fork). If the result holds JMH's {@code gc.alloc.rate.norm}
 * (run with {@code -prof gc}), the bytes allocated per operation are printed too.
 *
 * <pre>{@code java -cp benchmarks/target/benchmarks.jar io.tether.benchmarks.Ratios benchmarks/results/scope-overhead.json}</pre>
 */
public final class Ratios {

	static final String PER_STATEMENT = "raw_usingWhenPerStatement";
	static final String AROUND_ALL = "raw_usingWhenAroundAll";
	static final String TETHER = "tether_scope";

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

	static String report(String json) {
		// n -> variant -> score
		Map<String, Map<String, Score>> time = new TreeMap<>(Ratios::compareNumerically);
		Map<String, Map<String, Score>> alloc = new TreeMap<>(Ratios::compareNumerically);
		for (Object o : (List<?>) new Parser(json).parse()) {
			Map<?, ?> run = (Map<?, ?>) o;
			String benchmark = (String) run.get("benchmark");
			String variant = benchmark.substring(benchmark.lastIndexOf('.') + 1);
			Map<?, ?> params = (Map<?, ?>) run.get("params");
			String n = params == null ? "-" : String.valueOf(params.get("n"));
			time.computeIfAbsent(n, k -> new LinkedHashMap<>()).put(variant, score((Map<?, ?>) run.get("primaryMetric")));
			Map<?, ?> secondary = (Map<?, ?>) run.get("secondaryMetrics");
			if (secondary != null && secondary.get("gc.alloc.rate.norm") instanceof Map<?, ?> m) {
				alloc.computeIfAbsent(n, k -> new LinkedHashMap<>()).put(variant, score(m));
			}
		}
		StringBuilder out = new StringBuilder();
		out.append(String.format(Locale.ROOT, "%-4s %-28s %22s%n", "n", "variant", "score"));
		time.forEach((n, variants) -> variants.forEach((v, s) -> out.append(String.format(Locale.ROOT,
				"%-4s %-28s %10.3f ± %7.3f %s%n", n, v, s.value(), s.error(), s.unit()))));
		out.append(System.lineSeparator());
		time.forEach((n, variants) -> {
			Score c = variants.get(TETHER);
			if (c == null) {
				return;
			}
			ratio(out, n, "(c)/(b) tether / aroundAll", c, variants.get(AROUND_ALL));
			ratio(out, n, "(c)/(a) tether / perStatement", c, variants.get(PER_STATEMENT));
		});
		if (!alloc.isEmpty()) {
			out.append(System.lineSeparator()).append("allocation per operation (gc.alloc.rate.norm)")
					.append(System.lineSeparator());
			alloc.forEach((n, variants) -> {
				Score b = variants.get(AROUND_ALL);
				variants.forEach((v, s) -> out.append(String.format(Locale.ROOT, "%-4s %-28s %10.0f %s%s%n", n, v,
						s.value(), s.unit(), b == null || v.equals(AROUND_ALL) ? ""
								: String.format(Locale.ROOT, "  (%+.0f B/op vs (b))", s.value() - b.value()))));
			});
		}
		return out.toString();
	}

	private static void ratio(StringBuilder out, String n, String label, Score x, @Nullable Score y) {
		if (y == null) {
			return;
		}
		Score r = x.over(y);
		out.append(String.format(Locale.ROOT, "n=%-3s %-30s %.4f ± %.4f  (%+.1f%% ± %.1f%%)%n", n, label,
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

	private static int compareNumerically(String a, String b) {
		try {
			return Integer.compare(Integer.parseInt(a), Integer.parseInt(b));
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
