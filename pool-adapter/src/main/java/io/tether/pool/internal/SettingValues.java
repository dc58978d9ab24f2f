package io.tether.pool.internal;

import io.tether.pool.ValidationMode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Converts setting values given as text (URL query, properties) or as objects (a {@code Map} of
 * properties, {@code ConnectionFactoryOptions}) to their typed form. Every error names the setting and
 * the value seen, and says what was expected.
 */
public final class SettingValues {

	private static final Pattern SHORT_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");

	private static final Pattern SECRET = Pattern.compile(
			"(?i)(password|passwd|pwd|secret|token)(\\s*[=:]\\s*|\\s+)('[^']*'|\"[^\"]*\"|[^\\s&;,'\"]+)");

	// Up to the last '@' before the path: a password may hold a space or an unencoded '@' (a URL the URI parser
	// refuses, but whose text still reaches a message), and masking too much is better than too little.
	private static final Pattern URL_USER_INFO = Pattern.compile("(://[^:/@]*:)[^/]*@");

	private SettingValues() {
	}

	public static int toInt(String setting, Object value) {
		long l = toLong(setting, value);
		if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
			throw invalid(setting, value, "an integer between " + Integer.MIN_VALUE + " and " + Integer.MAX_VALUE);
		}
		return (int) l;
	}

	public static long toLong(String setting, Object value) {
		if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
			return ((Number) value).longValue();
		}
		if (value instanceof CharSequence) {
			try {
				return Long.parseLong(value.toString().trim());
			}
			catch (NumberFormatException e) {
				throw invalid(setting, value, "an integer");
			}
		}
		throw invalid(setting, value, "an integer");
	}

	public static boolean toBoolean(String setting, Object value) {
		if (value instanceof Boolean) {
			return (Boolean) value;
		}
		if (value instanceof CharSequence) {
			String s = value.toString().trim();
			if (s.equalsIgnoreCase("true")) {
				return true;
			}
			if (s.equalsIgnoreCase("false")) {
				return false;
			}
		}
		throw invalid(setting, value, "true or false");
	}

	/**
	 * A duration: a {@link Duration}, a number of milliseconds, or text in ISO-8601 ({@code PT2S}), with a
	 * unit ({@code 2000ms}, {@code 2s}, {@code 5m}, {@code 1h}, {@code 1d}) or plain milliseconds.
	 */
	public static Duration toDuration(String setting, Object value) {
		if (value instanceof Duration) {
			return (Duration) value;
		}
		if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
			return Duration.ofMillis(((Number) value).longValue());
		}
		if (value instanceof CharSequence) {
			String s = value.toString().trim();
			if (s.regionMatches(true, 0, "P", 0, 1) || s.regionMatches(true, 0, "-P", 0, 2)) {
				try {
					return Duration.parse(s);
				}
				catch (DateTimeParseException e) {
					throw invalid(setting, value, durationFormats());
				}
			}
			Matcher m = SHORT_DURATION.matcher(s.toLowerCase(Locale.ROOT));
			if (m.matches()) {
				long amount;
				try {
					amount = Long.parseLong(m.group(1));
				}
				catch (NumberFormatException e) {
					throw invalid(setting, value, durationFormats());
				}
				String unit = m.group(2) == null ? "ms" : m.group(2);
				switch (unit) {
					case "ms":
						return Duration.ofMillis(amount);
					case "s":
						return Duration.ofSeconds(amount);
					case "m":
						return Duration.ofMinutes(amount);
					case "h":
						return Duration.ofHours(amount);
					default:
						return Duration.ofDays(amount);
				}
			}
		}
		throw invalid(setting, value, durationFormats());
	}

	/** Whether a text value of {@code acquireTimeout} asks for an unlimited wait. */
	public static boolean isUnlimited(Object value) {
		if (value instanceof CharSequence) {
			String s = value.toString().trim();
			return s.equalsIgnoreCase("unlimited") || s.equalsIgnoreCase("infinite") || s.equals("-1");
		}
		return value instanceof Number && ((Number) value).longValue() == -1;
	}

	public static ValidationMode toValidationMode(String setting, Object value) {
		if (value instanceof ValidationMode) {
			return (ValidationMode) value;
		}
		if (value instanceof CharSequence) {
			String s = value.toString().trim().toUpperCase(Locale.ROOT).replace('-', '_');
			for (ValidationMode m : ValidationMode.values()) {
				if (m.name().equals(s)) {
					return m;
				}
			}
		}
		throw invalid(setting, value, "one of " + Arrays.toString(ValidationMode.values()));
	}

	public static String toText(String setting, Object value) {
		if (value instanceof CharSequence) {
			return value.toString();
		}
		throw invalid(setting, value, "text");
	}

	/** SQL statements: a collection or array of strings, or one text with statements separated by {@code ;}. */
	public static List<String> toStatements(String setting, Object value) {
		List<String> out = new ArrayList<>();
		if (value instanceof CharSequence) {
			for (String part : value.toString().split(";")) {
				if (!part.isBlank()) {
					out.add(part.trim());
				}
			}
			return out;
		}
		Collection<?> items;
		if (value instanceof Collection) {
			items = (Collection<?>) value;
		}
		else if (value instanceof Object[]) {
			items = Arrays.asList((Object[]) value);
		}
		else {
			throw invalid(setting, value, "SQL text (statements separated by ';') or a list of statements");
		}
		for (Object item : items) {
			if (!(item instanceof CharSequence) || item.toString().isBlank()) {
				throw invalid(setting, value, "a list of non-blank SQL statements");
			}
			out.add(item.toString().trim());
		}
		return out;
	}

	/**
	 * {@code text} with anything that looks like a secret replaced by {@code ***}: values after
	 * {@code password}, {@code pwd}, {@code secret} or {@code token}, and the password part of a URL's user
	 * info.
	 */
	public static String mask(String text) {
		String masked = URL_USER_INFO.matcher(text).replaceAll("$1***@");
		return SECRET.matcher(masked).replaceAll("$1$2***");
	}

	/**
	 * Other pools' names for Tether's settings (r2dbc-pool, HikariCP, DBUtils, Peewee), lower case. A URL
	 * option of one of these names is a pool setting meant for Tether, not a driver option.
	 */
	private static final Map<String, String> ALIASES = Map.ofEntries(
			Map.entry("poolsize", "maxSize"), Map.entry("pool_size", "maxSize"), Map.entry("maxpoolsize", "maxSize"),
			Map.entry("maximumpoolsize", "maxSize"), Map.entry("maxconnections", "maxSize"),
			Map.entry("max_connections", "maxSize"), Map.entry("connectionlimit", "maxSize"),
			Map.entry("initialsize", "minIdle"), Map.entry("minimumidle", "minIdle"), Map.entry("mincached", "minIdle"),
			Map.entry("maxcached", "maxIdle"), Map.entry("idletimeout", "maxIdleTime"),
			Map.entry("stale_timeout", "maxLifetime"), Map.entry("connectiontimeout", "acquireTimeout"),
			Map.entry("maxacquiretime", "acquireTimeout"), Map.entry("maxusage", "maxUses"),
			Map.entry("connectioninitsql", "initSql"), Map.entry("setsession", "initSql"),
			Map.entry("connectiontestquery", "validationQuery"), Map.entry("keepalivetime", "keepAliveInterval"),
			Map.entry("poolname", "name"), Map.entry("leakdetection", "leakDetectionThreshold"));

	/**
	 * The setting of {@code names} that {@code key} (not one of them) was probably meant to be: the same name
	 * in other case, another pool's name for it, or a name within an edit distance of 1 (names up to 6
	 * characters) or 2 (longer names), ignoring case; {@code null} when none is that close, so that the
	 * driver's own options pass through.
	 */
	public static @Nullable String closeSetting(String key, List<String> names) {
		String k = key.toLowerCase(Locale.ROOT);
		String alias = ALIASES.get(k);
		if (alias != null) {
			return alias;
		}
		String best = null;
		int bestDistance = Integer.MAX_VALUE;
		for (String name : names) {
			String n = name.toLowerCase(Locale.ROOT);
			int distance = editDistance(k, n);
			int allowed = n.length() <= 6 ? 1 : 2;
			if (distance <= allowed && distance < bestDistance) {
				best = name;
				bestDistance = distance;
			}
		}
		return best;
	}

	/** The optimal-string-alignment distance (insertions, deletions, substitutions, adjacent swaps). */
	public static int editDistance(String a, String b) {
		int[][] d = new int[a.length() + 1][b.length() + 1];
		for (int i = 0; i <= a.length(); i++) {
			d[i][0] = i;
		}
		for (int j = 0; j <= b.length(); j++) {
			d[0][j] = j;
		}
		for (int i = 1; i <= a.length(); i++) {
			for (int j = 1; j <= b.length(); j++) {
				int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
				d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
				if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
					d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
				}
			}
		}
		return d[a.length()][b.length()];
	}

	private static String durationFormats() {
		return "a duration: ISO-8601 like PT2S, or 2000ms, 2s, 5m, 1h, 1d, or plain milliseconds";
	}

	private static IllegalArgumentException invalid(String setting, Object value, String expected) {
		return new IllegalArgumentException("Invalid value for pool setting " + setting + ": '"
				+ mask(String.valueOf(value)) + "' (" + value.getClass().getSimpleName() + "), expected " + expected);
	}
}
