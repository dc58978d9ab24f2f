package io.tether.core.internal;

import io.tether.core.InvalidSqlException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Single pass over SQL text that finds {@code :name} parameters the way the PostgreSQL lexer would see the
 * text, and cuts it into the literal segments between them, so that binding later is a plain walk.
 *
 * <p>Rules (the Javadoc of {@link ParsedSql} has the user-facing version):
 * <ul>
 * <li>Nothing inside these is a parameter: {@code '...'} strings ({@code ''} escape); {@code E'...'} /
 * {@code e'...'} strings, where a backslash escapes the next character; {@code "..."} identifiers
 * ({@code ""} escape); {@code $$...$$} and {@code $tag$...$tag$} strings; {@code --} comments up to the
 * next line feed or carriage return; {@code /* ... *}{@code /} comments, which nest.</li>
 * <li>The {@code E} prefix and a dollar quote count only at the start of a token: {@code where'\'} is a
 * keyword and a standard string, {@code a$b$c} is one identifier. {@code $1} (a dollar and a digit) is a
 * positional marker, not a dollar quote.</li>
 * <li>Inside {@code E'...'}, {@code \'} is written as {@code ''} (same meaning) because r2dbc-postgresql's
 * own tokenizer does not know escape strings and would reject the statement.</li>
 * <li>{@code ::} (cast) and {@code :=} (assignment) are left alone; {@code \:} becomes a literal
 * {@code :} (the backslash is dropped); a parameter name is {@code [A-Za-z_][A-Za-z0-9_]*}, so
 * {@code :1} or a lone {@code :} are literal text.</li>
 * <li>Inside {@code [...]}, a {@code :} that follows an operand (identifier, number, {@code )}, {@code ]},
 * a literal or a parameter) is the array-slice separator: {@code arr[lo:hi]} stays as written, while
 * {@code arr[:i]}, {@code arr[:lo : :hi]} and {@code ARRAY[:a, :b]} hold parameters.</li>
 * </ul>
 * Unterminated literals and comments raise {@link InvalidSqlException} naming the opener's position;
 * named parameters mixed with {@code $n} markers too, as the two would number values independently.
 */
final class NamedSqlParser {

	private final String sql;
	private final int length;

	private final List<String> segments = new ArrayList<>();
	private final StringBuilder segment = new StringBuilder();
	private int segmentStart;
	private boolean rewritten;

	private final Map<String, Integer> names = new LinkedHashMap<>();
	private final List<Integer> occurrenceName = new ArrayList<>();
	private final List<Integer> occurrenceOffset = new ArrayList<>();
	private final List<Boolean> occurrenceInBrackets = new ArrayList<>();

	private int bracketDepth;
	/** Whether the last token (comments and whitespace aside) can end an operand: decides {@code [a:b]}. */
	private boolean afterOperand;
	/** End (exclusive) and start of the last run of plain identifier characters: for {@code E'} and {@code a$b}. */
	private int identifierEnd = -1;
	private int identifierStart = -1;
	private int firstPositionalMarker = -1;

	private NamedSqlParser(String sql) {
		this.sql = sql;
		this.length = sql.length();
	}

	static ParsedSql parse(String sql) {
		return new NamedSqlParser(sql).run();
	}

	private ParsedSql run() {
		int i = 0;
		boolean statement = false;
		while (i < length) {
			char c = sql.charAt(i);
			if (!statement && !isWhitespace(c) && c != ';' && !isCommentStart(i)) {
				statement = true;
			}
			switch (c) {
				case '\'':
					i = isEStringPrefix(i) ? skipEscapeString(i) : skipQuoted(i, '\'');
					afterOperand = true;
					break;
				case '"':
					i = skipQuoted(i, '"');
					afterOperand = true;
					break;
				case '-':
					if (charAt(i + 1) == '-') {
						i = skipLineComment(i);
					}
					else {
						i++;
						afterOperand = false;
					}
					break;
				case '/':
					if (charAt(i + 1) == '*') {
						i = skipBlockComment(i);
					}
					else {
						i++;
						afterOperand = false;
					}
					break;
				case '$':
					i = dollar(i);
					break;
				case ':':
					i = colon(i);
					break;
				case '\\':
					if (charAt(i + 1) == ':') {
						// \: is a literal colon: keep the text before the backslash, resume at the colon
						segment.append(sql, segmentStart, i);
						segmentStart = i + 1;
						rewritten = true;
						i += 2;
					}
					else {
						i++;
					}
					afterOperand = false;
					break;
				case '[':
					bracketDepth++;
					afterOperand = false;
					i++;
					break;
				case ']':
					if (bracketDepth > 0) {
						bracketDepth--;
					}
					afterOperand = true;
					i++;
					break;
				default:
					if (isIdentifierChar(c)) {
						if (identifierEnd != i) {
							identifierStart = i;
						}
						identifierEnd = i + 1;
						afterOperand = true;
					}
					else if (!isWhitespace(c)) {
						afterOperand = c == ')';
					}
					i++;
			}
		}
		if (!statement) {
			throw new InvalidSqlException(nothingToRun());
		}
		if (!names.isEmpty() && firstPositionalMarker >= 0) {
			int firstNamed = occurrenceOffset.get(0);
			throw new InvalidSqlException("SQL mixes named parameters (:" + names.keySet().iterator().next() + " at "
					+ ParsedSql.position(sql, firstNamed) + ") with positional markers ("
					+ positionalMarkerAt(firstPositionalMarker) + " at " + ParsedSql.position(sql, firstPositionalMarker)
					+ "): the two number their values independently, so they would not line up; expected named parameters only"
					+ ParsedSql.inSql(sql));
		}
		String last;
		if (!rewritten && segments.isEmpty()) {
			last = sql; // no parameter and no escape: the very same string, no copy
		}
		else {
			last = segment.append(sql, segmentStart, length).toString();
		}
		segments.add(last);
		return new ParsedSql(sql, segments.toArray(new String[0]), names.keySet().toArray(new String[0]),
				toIntArray(occurrenceName), toIntArray(occurrenceOffset), toBooleanArray(occurrenceInBrackets));
	}

	private int colon(int i) {
		char next = charAt(i + 1);
		if (next == ':' || next == '=') {
			// "::type" cast or ":=" assignment
			afterOperand = false;
			return i + 2;
		}
		if (!isNameStart(next)) {
			afterOperand = false;
			return i + 1;
		}
		if (bracketDepth > 0 && afterOperand) {
			// array slice separator, as in arr[lo:hi]
			afterOperand = false;
			return i + 1;
		}
		int end = i + 2;
		while (end < length && isNamePart(sql.charAt(end))) {
			end++;
		}
		String name = sql.substring(i + 1, end);
		Integer index = names.get(name);
		if (index == null) {
			index = names.size();
			names.put(name, index);
		}
		occurrenceName.add(index);
		occurrenceOffset.add(i);
		occurrenceInBrackets.add(bracketDepth > 0);
		segments.add(segment.append(sql, segmentStart, i).toString());
		segment.setLength(0);
		segmentStart = end;
		afterOperand = true;
		return end;
	}

	private int dollar(int i) {
		if (identifierEnd == i) {
			// '$' continues an identifier such as a$b: neither a marker nor a dollar quote
			identifierEnd = i + 1;
			afterOperand = true;
			return i + 1;
		}
		char next = charAt(i + 1);
		if (next >= '0' && next <= '9') {
			if (firstPositionalMarker < 0) {
				firstPositionalMarker = i;
			}
			int end = i + 2;
			while (end < length && sql.charAt(end) >= '0' && sql.charAt(end) <= '9') {
				end++;
			}
			afterOperand = true;
			return end;
		}
		int tagEnd = i + 1;
		if (tagEnd < length && isTagStart(sql.charAt(tagEnd))) {
			tagEnd++;
			while (tagEnd < length && isTagPart(sql.charAt(tagEnd))) {
				tagEnd++;
			}
		}
		if (charAt(tagEnd) != '$') {
			afterOperand = false;
			return i + 1;
		}
		String delimiter = sql.substring(i, tagEnd + 1);
		int close = sql.indexOf(delimiter, tagEnd + 1);
		if (close < 0) {
			throw new InvalidSqlException("Unterminated dollar-quoted string: " + delimiter + " at "
					+ ParsedSql.position(sql, i) + " has no closing " + delimiter
					+ "; expected the same delimiter (tags are case-sensitive) before the end of the SQL" + ParsedSql.inSql(sql));
		}
		afterOperand = true;
		return close + delimiter.length();
	}

	/** A quote right after a lone {@code E}/{@code e} that starts its token opens an escape string. */
	private boolean isEStringPrefix(int quote) {
		if (identifierEnd != quote || identifierStart != quote - 1) {
			return false;
		}
		char e = sql.charAt(quote - 1);
		return e == 'E' || e == 'e';
	}

	private int skipQuoted(int open, char quote) {
		int i = open + 1;
		while (true) {
			int close = sql.indexOf(quote, i);
			if (close < 0) {
				if (quote == '\'') {
					throw new InvalidSqlException("Unterminated string literal: the ' at " + ParsedSql.position(sql, open)
							+ " has no closing '; expected a closing quote before the end of the SQL (write '' for a quote inside the string)"
							+ ParsedSql.inSql(sql));
				}
				throw new InvalidSqlException("Unterminated quoted identifier: the \" at " + ParsedSql.position(sql, open)
						+ " has no closing \"; expected a closing double quote before the end of the SQL (write \"\" for a double quote inside the identifier)"
						+ ParsedSql.inSql(sql));
			}
			if (charAt(close + 1) == quote) {
				i = close + 2;
			}
			else {
				return close + 1;
			}
		}
	}

	private int skipEscapeString(int open) {
		int i = open + 1;
		while (i < length) {
			char c = sql.charAt(i);
			if (c == '\\') {
				if (charAt(i + 1) == '\'') {
					// \' and '' mean the same inside E'...'; r2dbc-postgresql 1.1's own SQL tokenizer knows only
					// standard strings and rejects \' as an unclosed quote, so the driver is given ''
					segment.append(sql, segmentStart, i).append("''");
					segmentStart = i + 2;
					rewritten = true;
				}
				i += 2;
			}
			else if (c == '\'') {
				if (charAt(i + 1) == '\'') {
					i += 2;
				}
				else {
					return i + 1;
				}
			}
			else {
				i++;
			}
		}
		throw new InvalidSqlException("Unterminated escape string: the " + sql.charAt(open - 1) + "' at "
				+ ParsedSql.position(sql, open - 1) + " has no closing '; expected a closing quote before the end of the SQL"
				+ " (inside E'...' a backslash escapes the next character, so \\' does not end the string; write \\\\ for a backslash)"
				+ ParsedSql.inSql(sql));
	}

	private boolean isCommentStart(int i) {
		char c = sql.charAt(i);
		return (c == '-' && charAt(i + 1) == '-') || (c == '/' && charAt(i + 1) == '*');
	}

	/** Drivers disagree on such SQL (H2 and PostgreSQL answer it with an empty result): refuse it before anything is acquired. */
	private String nothingToRun() {
		String what = length == 0 ? "empty" : sql.isBlank() ? "blank (" + length + " whitespace characters)"
				: "only comments, whitespace or ';' (" + length + " characters)";
		return "SQL is " + what + "; expected a statement to run" + (length == 0 || sql.isBlank() ? "" : ParsedSql.inSql(sql));
	}

	private int skipLineComment(int open) {
		int i = open + 2;
		while (i < length) {
			char c = sql.charAt(i);
			if (c == '\n' || c == '\r') {
				return i;
			}
			i++;
		}
		return length;
	}

	private int skipBlockComment(int open) {
		int depth = 1;
		int i = open + 2;
		while (i < length) {
			char c = sql.charAt(i);
			if (c == '/' && charAt(i + 1) == '*') {
				depth++;
				i += 2;
			}
			else if (c == '*' && charAt(i + 1) == '/') {
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
		throw new InvalidSqlException("Unterminated block comment: the /* at " + ParsedSql.position(sql, open)
				+ " has no closing */; expected " + depth + " more */ before the end of the SQL (block comments nest, "
				+ depth + (depth == 1 ? " level is" : " levels are") + " still open)" + ParsedSql.inSql(sql));
	}

	private String positionalMarkerAt(int offset) {
		int end = offset + 1;
		while (end < length && sql.charAt(end) >= '0' && sql.charAt(end) <= '9') {
			end++;
		}
		return sql.substring(offset, end);
	}

	private char charAt(int i) {
		return i < length ? sql.charAt(i) : '\0';
	}

	private static boolean isNameStart(char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
	}

	private static boolean isNamePart(char c) {
		return isNameStart(c) || (c >= '0' && c <= '9');
	}

	/** PostgreSQL's dollar-quote tag: like an identifier, without '$'; bytes >= 0x80 count as letters. */
	private static boolean isTagStart(char c) {
		return isNameStart(c) || c >= 0x80;
	}

	private static boolean isTagPart(char c) {
		return isTagStart(c) || (c >= '0' && c <= '9');
	}

	/** Characters that extend an identifier, keyword or number in PostgreSQL's lexer. */
	private static boolean isIdentifierChar(char c) {
		return isTagPart(c) || c == '$';
	}

	private static boolean isWhitespace(char c) {
		return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
	}

	private static int[] toIntArray(List<Integer> values) {
		int[] array = new int[values.size()];
		for (int i = 0; i < array.length; i++) {
			array[i] = values.get(i);
		}
		return array;
	}

	private static boolean[] toBooleanArray(List<Boolean> values) {
		boolean[] array = new boolean[values.size()];
		for (int i = 0; i < array.length; i++) {
			array[i] = values.get(i);
		}
		return array;
	}
}
