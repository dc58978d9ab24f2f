package io.tether.pool.internal;

import io.tether.pool.ValidationMode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
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

	private static final Pattern URL_USER_INFO = Pattern.compile("(://[^:/@\\s]*:)[^@/\\s]*@");

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

	private static String durationFormats() {
		return "a duration: ISO-8601 like PT2S, or 2000ms, 2s, 5m, 1h, 1d, or plain milliseconds";
	}

	private static IllegalArgumentException invalid(String setting, Object value, String expected) {
		return new IllegalArgumentException("Invalid value for pool setting " + setting + ": '"
				+ mask(String.valueOf(value)) + "' (" + value.getClass().getSimpleName() + "), expected " + expected);
	}
}
