package io.tether.test.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Reading SQL text the little the kit needs: split a script into statements, tell reads from writes. */
public final class SqlText {

	private static final Set<String> NOT_DATA_CHANGES = Set.of("select", "values", "show", "table", "explain", "set", "reset");
	private static final Pattern DATA_CHANGE_WORD = Pattern.compile("\\b(insert|update|delete|merge|upsert|truncate)\\b",
			Pattern.CASE_INSENSITIVE);

	private SqlText() {
	}

	/**
	 * Whether {@code sql} may change data when it runs in auto-commit mode: everything but {@code SELECT},
	 * {@code VALUES}, {@code SHOW}, {@code TABLE}, {@code EXPLAIN}, {@code SET}, {@code RESET}, and
	 * {@code WITH} queries without a data-changing word. Errs on the side of "may change".
	 */
	public static boolean mayChangeData(String sql) {
		String word = firstWord(sql);
		if (word.equals("with")) {
			return DATA_CHANGE_WORD.matcher(sql).find();
		}
		return !NOT_DATA_CHANGES.contains(word);
	}

	/** The first keyword, lower case, after blanks, comments and opening parentheses. */
	static String firstWord(String sql) {
		int i = 0;
		int n = sql.length();
		while (i < n) {
			char c = sql.charAt(i);
			if (Character.isWhitespace(c) || c == '(') {
				i++;
			}
			else if (sql.startsWith("--", i)) {
				int eol = sql.indexOf('\n', i);
				i = eol < 0 ? n : eol + 1;
			}
			else if (sql.startsWith("/*", i)) {
				int end = sql.indexOf("*/", i + 2);
				i = end < 0 ? n : end + 2;
			}
			else {
				break;
			}
		}
		int start = i;
		while (i < n && Character.isLetter(sql.charAt(i))) {
			i++;
		}
		return sql.substring(start, i).toLowerCase(Locale.ROOT);
	}

	/**
	 * The statements of a script, split at semicolons that are not inside a quoted string, a quoted
	 * identifier, a dollar-quoted body ({@code $$...$$}, {@code $tag$...$tag$}) or a comment. Blank
	 * statements and comment-only statements are dropped.
	 */
	public static List<String> statements(String script) {
		List<String> out = new ArrayList<>();
		StringBuilder current = new StringBuilder();
		int i = 0;
		int n = script.length();
		while (i < n) {
			char c = script.charAt(i);
			String tag = c == '$' ? dollarTag(script, i) : null;
			int end;
			if (c == '\'' || c == '"') {
				end = closing(script, i, c);
			}
			else if (script.startsWith("--", i)) {
				int eol = script.indexOf('\n', i);
				end = eol < 0 ? n : eol + 1;
			}
			else if (script.startsWith("/*", i)) {
				end = blockCommentEnd(script, i);
			}
			else if (tag != null) {
				int close = script.indexOf(tag, i + tag.length());
				end = close < 0 ? n : close + tag.length();
			}
			else if (c == ';') {
				add(out, current);
				current.setLength(0);
				i++;
				continue;
			}
			else {
				end = i + 1;
			}
			current.append(script, i, end);
			i = end;
		}
		add(out, current);
		return out;
	}

	private static void add(List<String> out, StringBuilder statement) {
		String s = statement.toString().strip();
		if (!s.isEmpty() && !firstWord(s).isEmpty()) {
			out.add(s);
		}
	}

	/** The index after the quote closing the one at {@code start}; a doubled quote is an escaped one. */
	private static int closing(String s, int start, char quote) {
		int i = start + 1;
		while (i < s.length()) {
			if (s.charAt(i) == quote) {
				if (i + 1 < s.length() && s.charAt(i + 1) == quote) {
					i += 2;
					continue;
				}
				return i + 1;
			}
			i++;
		}
		return s.length();
	}

	private static int blockCommentEnd(String s, int start) {
		int depth = 0;
		int i = start;
		while (i < s.length()) {
			if (s.startsWith("/*", i)) {
				depth++;
				i += 2;
			}
			else if (s.startsWith("*/", i)) {
				depth--;
				i += 2;
				if (depth == 0) {
					return i;
				}
			}
			else {
				i++;
			}
		}
		return s.length();
	}

	/** {@code $$} or {@code $tag$} starting at {@code start}, or null (a {@code $1} marker is no tag). */
	private static @Nullable String dollarTag(String s, int start) {
		int i = start + 1;
		if (i < s.length() && Character.isDigit(s.charAt(i))) {
			return null;
		}
		while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
			i++;
		}
		return i < s.length() && s.charAt(i) == '$' ? s.substring(start, i + 1) : null;
	}
}
