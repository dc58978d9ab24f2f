package io.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.tether.core.InvalidSqlException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Property-style checks over generated SQL. Seeds are fixed so a failure reproduces; the message names the
 * seed and the SQL.
 */
class ParsedSqlPropertyTest {

	private static final int RUNS = 3_000;

	/**
	 * Fragments with a trap inside: ":trap" must never become a parameter, whatever surrounds them. The second
	 * column is what they become: the same, except that \' inside E'...' is sent as ''.
	 */
	private static final String[][] TRAPS = {
			{ "'it''s :trap'", "'it''s :trap'" },
			{ "E'\\' :trap \\\\'", "E''' :trap \\\\'" },
			{ "e'' ':trap'", "e'' ':trap'" },
			{ "\"q\"\":trap\"", "\"q\"\":trap\"" },
			{ "$$ :trap ' \" $$", "$$ :trap ' \" $$" },
			{ "$t$ :trap $x$ :trap $t$", "$t$ :trap $x$ :trap $t$" },
			{ "-- :trap ' \" /*\n", "-- :trap ' \" /*\n" },
			{ "/* :trap /* :trap */ ' \" -- */", "/* :trap /* :trap */ ' \" -- */" },
			{ "'::trap'", "'::trap'" },
			{ "U&':trap\\\\'", "U&':trap\\\\'" },
	};

	/** Fragments that are SQL text without parameters; the second column is what they become. */
	private static final String[][] PLAIN = {
			{ "select", "select" }, { "a", "a" }, { "1", "1" }, { "t.col", "t.col" }, { "=", "=" }, { "+", "+" },
			{ "(", "(" }, { ")", ")" }, { ",", "," }, { "x::int", "x::int" }, { "arr[1:2]", "arr[1:2]" },
			{ "arr[lo:hi]", "arr[lo:hi]" }, { ":=", ":=" }, { "\\:esc", ":esc" }, { "col$a$", "col$a$" },
			{ "?", "?" }, { "::text", "::text" }, { "[]", "[]" }, { ":", ":" },
	};

	private static final String[] SEPARATORS = { " ", "\n", "\t", "\r\n", " ( ", " , ", " || " };

	/**
	 * SQL assembled from traps, plain text and real parameters: parsing never throws, finds exactly the real
	 * parameters, and binding rewrites exactly them, leaving every other character as written.
	 */
	@Test
	void findsExactlyTheRealParametersAndNothingInsideQuotesOrComments() {
		for (int seed = 0; seed < RUNS; seed++) {
			Random random = new Random(seed);
			StringBuilder sql = new StringBuilder();
			StringBuilder expected = new StringBuilder();
			List<String> occurrences = new ArrayList<>();
			int fragments = random.nextInt(12);
			// Whether anything but whitespace and comments was written: SQL without a statement is refused.
			boolean statement = false;
			for (int f = 0; f < fragments; f++) {
				if (f > 0) {
					String separator = SEPARATORS[random.nextInt(SEPARATORS.length)];
					sql.append(separator);
					expected.append(separator);
					statement |= !separator.isBlank();
				}
				int kind = random.nextInt(3);
				statement |= kind != 0;
				if (kind == 0) {
					String[] trap = TRAPS[random.nextInt(TRAPS.length)];
					sql.append(trap[0]);
					expected.append(trap[1]);
					statement |= !trap[0].startsWith("--") && !trap[0].startsWith("/*");
				}
				else if (kind == 1) {
					String[] plain = PLAIN[random.nextInt(PLAIN.length)];
					sql.append(plain[0]);
					expected.append(plain[1]);
				}
				else {
					String name = "p" + random.nextInt(4);
					String cast = random.nextBoolean() ? "" : "::int";
					sql.append(':').append(name).append(cast);
					occurrences.add(name);
					expected.append('$').append(occurrences.size()).append(cast);
				}
			}
			Set<String> names = new LinkedHashSet<>(occurrences);
			List<Binding> bindings = new ArrayList<>();
			for (String name : names) {
				bindings.add(Binding.of(name, name + "-value"));
			}
			String text = sql.toString();
			String context = "seed " + seed + ", SQL: " + text;

			if (!statement) {
				assertThatThrownBy(() -> ParsedSql.parseUncached(text)).as(context)
						.isInstanceOf(InvalidSqlException.class).hasMessageStartingWith("SQL is ");
				continue;
			}
			ParsedSql parsed;
			try {
				parsed = ParsedSql.parseUncached(text);
			}
			catch (RuntimeException e) {
				throw new AssertionError("parse threw for " + context, e);
			}
			BoundSql bound = parsed.bind(bindings, BindMarkers.POSTGRES_STYLE);

			assertThat(parsed.parameterNames()).as(context).containsExactlyElementsOf(names);
			assertThat(bound.sql()).as(context).isEqualTo(expected.toString());
			assertThat(bound.values()).as(context).containsExactlyElementsOf(occurrences.stream().map(n -> n + "-value").toList());
		}
	}

	/**
	 * Random strings over the characters the parser cares about: parse either succeeds or raises
	 * InvalidSqlException (never an index error or anything else), and what it finds can be bound.
	 */
	@Test
	void arbitraryTextEitherParsesOrRaisesInvalidSql() {
		String alphabet = "'\"$-/*:\\[]()=, \n\rEeab_19";
		int parsedCount = 0;
		for (int seed = 0; seed < RUNS * 3; seed++) {
			Random random = new Random(seed);
			char[] chars = new char[random.nextInt(24)];
			for (int i = 0; i < chars.length; i++) {
				chars[i] = alphabet.charAt(random.nextInt(alphabet.length()));
			}
			String text = new String(chars);
			ParsedSql parsed;
			try {
				parsed = ParsedSql.parseUncached(text);
			}
			catch (InvalidSqlException e) {
				if (e.getMessage().startsWith("SQL is ")) {
					// Only whitespace, ';' and complete comments: nothing to run.
					assertThat(e.getMessage()).as("seed " + seed).contains("expected a statement to run");
				}
				else {
					assertThat(e.getMessage()).as("seed " + seed).contains("offset ").contains(" in SQL: " + text);
				}
				continue;
			}
			catch (RuntimeException e) {
				fail("seed " + seed + ": unexpected " + e + " for SQL: " + text, e);
				return;
			}
			parsedCount++;
			List<Binding> bindings = new ArrayList<>();
			for (String name : parsed.parameterNames()) {
				assertThat(name).as("seed " + seed).matches("[A-Za-z_][A-Za-z0-9_]*");
				bindings.add(Binding.of(name, 1));
			}
			BoundSql bound = parsed.bind(bindings, BindMarkers.QUESTION_MARK);
			assertThat(bound.values()).as("seed " + seed).hasSizeGreaterThanOrEqualTo(parsed.parameterNames().size());
		}
		assertThat(parsedCount).as("some random texts must parse, or this test checks nothing").isGreaterThan(RUNS / 10);
	}
}
