package io.tether.core.internal;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Stands in for a driver exception (or one of its causes) whose message quotes values the database echoed
 * from the statement's input, such as PostgreSQL's {@code invalid input syntax for type integer: "<value>"}
 * (SQLState {@code 22P02}) or MariaDB's {@code Duplicate entry '<value>' for key ...}. It carries the original
 * class name, the message with those values replaced by {@code ?}, the original stack trace, and a cause and
 * suppressed exceptions redacted the same way. Used unless {@code Database.Builder#serverErrorDetail(true)}.
 *
 * <p>Which values are replaced: in messages of SQLState class {@code 22} (data exception) every quoted part,
 * {@code "..."} and {@code '...'}, and hexadecimal byte sequences ({@code 0x00}); in class {@code 23}
 * (integrity constraint) single-quoted parts, where MariaDB and H2 put key values (PostgreSQL double-quotes
 * only the names of constraints and tables there, which stay), and H2's list of key values after the index.
 * Messages of other classes name SQL, tables and columns, not input values, and are left alone, except in
 * H2's own exceptions: there single-quoted parts and the keys and rows its storage engine prints into a lock
 * timeout or deadlock ({@code <42>}, {@code ( /* key:42 ...)}) are replaced whatever the class.
 */
public final class RedactedServerException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private static final Pattern DOUBLE_QUOTED = Pattern.compile("\"[^\"]*\"");
	private static final Pattern SINGLE_QUOTED = Pattern.compile("'(?:[^']|'')*'");
	private static final Pattern HEX_BYTES = Pattern.compile("0x[0-9A-Fa-f]{2}(?: 0x[0-9A-Fa-f]{2})*");
	// H2's key values after the index or reference: "... ON PUBLIC.T(ID) ( /* key:42 */ 42, 'x')"
	private static final Pattern H2_KEY_VALUES = Pattern.compile("\\) \\([^\"]*\\)\"");

	// H2's storage engine, deep in the chain of a lock timeout or deadlock, prints keys and whole rows:
	// "Map entry <table.4> with key <42> and value ( /* key:42 */ 42, 'a') ... is locked".
	private static final Pattern H2_ROW = Pattern.compile("\\( /\\* key:[^)]*\\)");
	private static final Pattern H2_ANGLED = Pattern.compile("<[^<>]*>");

	private final String originalClass;

	private RedactedServerException(String originalClass, String message) {
		super(originalClass + ": " + message);
		this.originalClass = originalClass;
	}

	/** The class name of the exception this one replaces. */
	public String originalClass() {
		return originalClass;
	}

	/** {@code message} with the values of the class documentation replaced, judged by SQLState {@code state}. */
	static String redactValues(String message, @Nullable String state) {
		if (state == null || state.length() < 2) {
			return message;
		}
		if (state.startsWith("22")) {
			String m = DOUBLE_QUOTED.matcher(message).replaceAll("\"?\"");
			m = SINGLE_QUOTED.matcher(m).replaceAll("'?'");
			return HEX_BYTES.matcher(m).replaceAll("0x??");
		}
		if (state.startsWith("23")) {
			String m = H2_KEY_VALUES.matcher(message).replaceAll(") (?)\"");
			return SINGLE_QUOTED.matcher(m).replaceAll("'?'");
		}
		return message;
	}

	/**
	 * The message of {@code t}, one link of a driver exception's chain, redacted: {@link #redactValues}, and for
	 * H2's own exceptions, whatever the SQLState, the keys and rows its storage engine prints.
	 */
	private static String redactLink(Throwable t, String message, @Nullable String state) {
		String m = redactValues(message, state);
		if (t.getClass().getName().startsWith("org.h2.")) {
			m = H2_ROW.matcher(m).replaceAll("( ? )");
			m = H2_ANGLED.matcher(m).replaceAll("<?>");
			m = SINGLE_QUOTED.matcher(m).replaceAll("'?'");
		}
		return m;
	}

	/**
	 * {@code error} itself when no message in its cause chain changes under {@link #redactValues} (and, for H2,
	 * {@link #redactLink}), else a redacted copy of the chain.
	 */
	static Throwable redact(Throwable error, @Nullable String state) {
		return changes(error, state, 0) ? copy(error, state, 0) : error;
	}

	private static boolean changes(@Nullable Throwable t, @Nullable String state, int depth) {
		if (t == null || depth > 10) {
			return false;
		}
		String m = t.getMessage();
		if (m != null && !m.equals(redactLink(t, m, state))) {
			return true;
		}
		for (Throwable s : t.getSuppressed()) {
			if (changes(s, state, depth + 1)) {
				return true;
			}
		}
		return t.getCause() != t && changes(t.getCause(), state, depth + 1);
	}

	private static Throwable copy(Throwable t, @Nullable String state, int depth) {
		String m = t.getMessage();
		RedactedServerException copy = new RedactedServerException(t.getClass().getName(),
				m == null ? "" : redactLink(t, m, state));
		copy.setStackTrace(t.getStackTrace());
		if (depth < 10) {
			if (t.getCause() != null && t.getCause() != t) {
				copy.initCause(copy(t.getCause(), state, depth + 1));
			}
			for (Throwable s : t.getSuppressed()) {
				copy.addSuppressed(copy(s, state, depth + 1));
			}
		}
		return copy;
	}

	@Override
	public String toString() {
		return getMessage();
	}
}
