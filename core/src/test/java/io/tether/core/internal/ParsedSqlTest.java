package io.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Named.named;

import io.tether.core.InvalidSqlException;
import io.tether.core.ParameterException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The named-parameter table: each row is SQL as written, the SQL the driver gets, and the parameter names
 * found. Rows marked "Spring ..." are cases that Spring's {@code NamedParameterUtils} (spring-jdbc /
 * spring-r2dbc) gets wrong, with the issue that reports it. Unless a row binds its own values, each name is
 * bound to the string {@code "<name>-value"} and {@code $n} markers are used.
 */
class ParsedSqlTest {

	static Stream<Arguments> table() {
		return Stream.of(
				// ---- basics
				row("one parameter",
						"select * from users where id = :id",
						"select * from users where id = $1", "id"),
				row("names listed once, in order of first appearance; one marker per occurrence",
						"update t set a = :b, c = :a where d = :b",
						"update t set a = $1, c = $2 where d = $3", "b", "a"),
				row("names with digits and underscores, case kept",
						"select :_x1, :snake_case_2, :CamelCase9",
						"select $1, $2, $3", "_x1", "snake_case_2", "CamelCase9"),
				row("parameters against punctuation",
						"insert into t values(:a,:b);",
						"insert into t values($1,$2);", "a", "b"),
				row("parameters against operators",
						"select 1 where a=:a and b<>:b or c>=:c and d||:d",
						"select 1 where a=$1 and b<>$2 or c>=$3 and d||$4", "a", "b", "c", "d"),
				row("newlines, tabs and CRLF around parameters",
						"select *\r\nfrom t\nwhere a = :a\n\tand b =\t:b\n",
						"select *\r\nfrom t\nwhere a = $1\n\tand b =\t$2\n", "a", "b"),
				row("no parameter: unchanged",
						"select 1",
						"select 1"),
				row("a ':' at the end of the input is text",
						"select :a from t :",
						"select $1 from t :", "a"),
				row("':' before a digit or a space is text",
						"select :1, : x, :a",
						"select :1, : x, $1", "a"),
				row("repeated name takes a marker and the value at each occurrence",
						"select * from t where a = :x or b = :x",
						"select * from t where a = $1 or b = $2", "x").values("x-value", "x-value"),

				// ---- string literals
				row("'' inside a string literal",
						"select 'it''s :not' from t where a = :a",
						"select 'it''s :not' from t where a = $1", "a"),
				row("empty strings next to a parameter",
						"select ''||:a||''",
						"select ''||$1||''", "a"),
				row("casts and colons inside a string",
						"select 'a::b :c 12:30', :d",
						"select 'a::b :c 12:30', $1", "d"),
				row("Spring (no E-string support): E'..\\'..' does not end at \\', which is sent as '' for the driver",
						"select E'it\\'s :x', :a",
						"select E'it''s :x', $1", "a"),
				row("e'..' lower case, ending in an escaped backslash",
						"select e'back\\\\', :a, e'\\\\\\' :x'",
						"select e'back\\\\', $1, e'\\\\'' :x'", "a"),
				row("E'..' with '' inside",
						"select E'a''b :x', :a",
						"select E'a''b :x', $1", "a"),
				row("E only counts at a token start: where'\\' is a keyword then a standard string",
						"select 1 where'\\' = :p",
						"select 1 where'\\' = $1", "p"),
				row("U&'..' (Unicode escapes) is not mistaken for an E-string",
						"select U&'d\\0061t\\+000061 :x', :a",
						"select U&'d\\0061t\\+000061 :x', $1", "a"),

				// ---- quoted identifiers
				row("\"quoted \"\"ident\"\" :x\"",
						"select \"quoted \"\"ident\"\" :x\" from t where a = :a",
						"select \"quoted \"\"ident\"\" :x\" from t where a = $1", "a"),
				row("quoted identifier with a colon, then a parameter",
						"select t.\"a:b\" from t where \"c\" = :c",
						"select t.\"a:b\" from t where \"c\" = $1", "c"),

				// ---- dollar quotes and positional markers
				row("Spring (no dollar quotes, SPR-16512): $$..:x..$$",
						"select $$ :x ' \" -- /* $$, :a",
						"select $$ :x ' \" -- /* $$, $1", "a"),
				row("$tag$ with $other$ inside it",
						"do $body$ begin perform :x; raise notice $other$ :y $other$; end $body$; select :a",
						"do $body$ begin perform :x; raise notice $other$ :y $other$; end $body$; select $1", "a"),
				row("Spring SPR-16512: $ranS58$value$ranS58$ is a string, not parameter 'value$ranS58$'",
						"select * from a where a.col1 = $ranS58$value$ranS58$ and b = :b",
						"select * from a where a.col1 = $ranS58$value$ranS58$ and b = $1", "b"),
				row("dollar-quote tags are case-sensitive",
						"select $a$ $A$ :x $a$, :b",
						"select $a$ $A$ :x $a$, $1", "b"),
				row("'$' inside an identifier (col$a$) opens no dollar quote",
						"select col$a$ from t where x = :x",
						"select col$a$ from t where x = $1", "x"),
				row("$1 positional markers stay and are no dollar quotes",
						"select * from t where a = $1 and b = $2",
						"select * from t where a = $1 and b = $2"),
				row("'$1' inside a string is text",
						"select '$1', :a",
						"select '$1', $1", "a"),

				// ---- comments
				row("-- comment to the end of the line",
						"select 1 -- :x\nwhere a = :a",
						"select 1 -- :x\nwhere a = $1", "a"),
				row("-- comment at the end of the input",
						"select :a -- trailing :x",
						"select $1 -- trailing :x", "a"),
				row("Spring SPR-7958: quote right after a -- comment's line end",
						"select -- comment\n'B' as x from t where y > :y",
						"select -- comment\n'B' as x from t where y > $1", "y"),
				row("Spring (stops only at \\n): a carriage return ends a -- comment",
						"select 1 -- c\rwhere a = :a",
						"select 1 -- c\rwhere a = $1", "a"),
				row("apostrophe in a -- comment (jdbi #1731, doctrine #3497)",
						"select 1 -- don't :x\nwhere a = :a",
						"select 1 -- don't :x\nwhere a = $1", "a"),
				row("block comment",
						"select /* :x ' */ :a",
						"select /* :x ' */ $1", "a"),
				row("Spring (comments do not nest): /* /* :x */ :y */",
						"select /* /* :x */ :y */ :a",
						"select /* /* :x */ :y */ $1", "a"),
				row("-- inside a block comment is text",
						"select /* -- */ :a",
						"select /* -- */ $1", "a"),
				row("/* inside a -- comment opens nothing",
						"select 1 -- /*\nwhere a = :a",
						"select 1 -- /*\nwhere a = $1", "a"),
				row("/*/ opens a comment and does not close it",
						"select /*/ :x */ :a",
						"select /*/ :x */ $1", "a"),

				// ---- casts and assignment
				row(":id::int is parameter id, then a cast",
						"select :id::int, :tags::text[]",
						"select $1::int, $2::text[]", "id", "tags"),
				row("casts after literals and expressions",
						"select '1'::int, now()::date, \"c\"::text, $$x$$::text where a = :a",
						"select '1'::int, now()::date, \"c\"::text, $$x$$::text where a = $1", "a"),
				row(":= named argument, also against a parameter",
						"select f(a := :a, b:=:b)",
						"select f(a := $1, b:=$2)", "a", "b"),

				// ---- array subscripts and slices
				row("arr[1:2] and schedule[1:2][1:1] slices stay",
						"select arr[1:2], schedule[1:2][1:1] from t where name = :name",
						"select arr[1:2], schedule[1:2][1:1] from t where name = $1", "name"),
				row("arr[lo:hi]: ':' after an operand inside [] is the slice separator",
						"select arr[lo:hi], arr[t.lo :hi], arr[f(x):hi] from t where id = :id",
						"select arr[lo:hi], arr[t.lo :hi], arr[f(x):hi] from t where id = $1", "id"),
				row("arr[:i] is the element at parameter i",
						"select arr[:i] from t",
						"select arr[$1] from t", "i"),
				row("slice with parameter bounds: arr[:lo : :hi] and arr[(:lo):(:hi)]",
						"select arr[:lo : :hi], arr[(:lo):(:hi)] from t",
						"select arr[$1 : $2], arr[($3):($4)] from t", "lo", "hi"),
				row("Spring SPR-13181/SPR-16340: ARRAY[:option]::json[] is parameter 'option', not 'option]'",
						"update t set option = ARRAY[:option]::json[] where id = :id",
						"update t set option = ARRAY[$1]::json[] where id = $2", "option", "id"),
				row("ARRAY[:a, :b]: ':' after '[' or ',' is a parameter",
						"select ARRAY[:a, :b]",
						"select ARRAY[$1, $2]", "a", "b"),
				row("colons in strings inside ARRAY[...] (spring-data-r2dbc #632)",
						"insert into t(c, d) values (array[':1', ':2'], :d)",
						"insert into t(c, d) values (array[':1', ':2'], $1)", "d"),

				// ---- escapes and other operators
				row("\\:name is the literal :name",
						"select * from t where tag = \\:literal and a = :a",
						"select * from t where tag = :literal and a = $1", "a"),
				row("\\: inside a string is kept as written",
						"select '\\:x', :a",
						"select '\\:x', $1", "a"),
				row("only an escape: no parameter, backslash removed",
						"select \\:x",
						"select :x"),
				row("Spring #21054 (treats ? as a JDBC placeholder): jsonb ?, ?| and ?& stay",
						"select * from t where data ? 'k' and data ?| array['a'] and data ?& array['b'] and id = :id",
						"select * from t where data ? 'k' and data ?| array['a'] and data ?& array['b'] and id = $1", "id"),

				// ---- values: collections, arrays, nulls
				row("collection expands to one marker per element",
						"select * from t where id in (:ids)",
						"select * from t where id in ($1, $2, $3)", "ids")
						.bind("ids", List.of(1, 2, 3)).values(1, 2, 3),
				row("spring-data-r2dbc #310 / spring-framework #34768: a collection used twice expands twice",
						"select * from t where a in (:ids) or b in (:ids)",
						"select * from t where a in ($1, $2) or b in ($3, $4)", "ids")
						.bind("ids", List.of(7, 8)).values(7, 8, 7, 8),
				row("collection among scalars keeps the numbering going",
						"select * from t where x = :x and id in (:ids) and y = :y",
						"select * from t where x = $1 and id in ($2, $3) and y = $4", "x", "ids", "y")
						.bind("x", "X").bind("ids", new LinkedHashSet<>(List.of("p", "q"))).bind("y", "Y")
						.values("X", "p", "q", "Y"),
				row("an array is one value, not expanded",
						"select * from t where id = any(:ids)",
						"select * from t where id = any($1)", "ids")
						.bind("ids", new int[] { 1, 2 }),
				row("typed null becomes NullValue",
						"update t set email = :email where id = :id",
						"update t set email = $1 where id = $2", "email", "id")
						.bindNull("email", String.class).bind("id", 5L).values(new NullValue(String.class), 5L),

				// ---- ? markers (MariaDB)
				row("? markers",
						"insert into t(a, b) values (:a, :b)",
						"insert into t(a, b) values (?, ?)", "a", "b")
						.markers(BindMarkers.QUESTION_MARK).values("a-value", "b-value"),
				row("spring-data-r2dbc #778: a repeated name with ? markers binds its value twice",
						"select * from t where a = :x or b = :x",
						"select * from t where a = ? or b = ?", "x")
						.markers(BindMarkers.QUESTION_MARK).values("x-value", "x-value"),
				row("? markers with a collection",
						"select * from t where id in (:ids) and k = :k",
						"select * from t where id in (?, ?, ?) and k = ?", "ids", "k")
						.markers(BindMarkers.QUESTION_MARK).bind("ids", List.of(1, 2, 3)).values(1, 2, 3, "k-value"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("table")
	void rewritesNamedParametersToMarkers(Case c) {
		ParsedSql parsed = ParsedSql.parse(c.sql);
		List<Binding> bindings = c.bindings();

		BoundSql bound = parsed.bind(bindings, c.markers);

		assertThat(parsed.sql()).isSameAs(c.sql);
		assertThat(parsed.parameterNames()).as("names").containsExactlyElementsOf(c.names);
		assertThat(bound.sql()).as("bound SQL").isEqualTo(c.expected);
		if (c.values != null) {
			assertThat(bound.values()).as("values").containsExactlyElementsOf(c.values);
		}
		else {
			assertThat(bound.values()).as("values").allSatisfy(v -> assertThat(bindings).anySatisfy(b -> assertThat(b.value()).isSameAs(v)));
		}
	}

	static Stream<Arguments> errors() {
		return Stream.of(
				// ---- unterminated forms: InvalidSqlException at parse
				error("unterminated string literal", "select 'abc from t where a = :a",
						InvalidSqlException.class, "Unterminated string literal", "' at offset 7 (line 1, column 8)", "expected a closing quote"),
				error("unterminated string literal on line 2", "select 1\nwhere a = 'x",
						InvalidSqlException.class, "Unterminated string literal", "offset 19 (line 2, column 11)"),
				error("a string that looks closed by '' is not", "select 'it'' :a",
						InvalidSqlException.class, "Unterminated string literal", "offset 7"),
				error("unterminated E-string: \\' does not close it", "select E'it\\'s :a",
						InvalidSqlException.class, "Unterminated escape string", "E' at offset 7 (line 1, column 8)", "\\' does not end the string"),
				error("unterminated e-string ending in a backslash", "select e'abc\\",
						InvalidSqlException.class, "Unterminated escape string", "e' at offset 7"),
				error("unterminated quoted identifier", "select \"abc from t",
						InvalidSqlException.class, "Unterminated quoted identifier", "offset 7 (line 1, column 8)", "expected a closing double quote"),
				error("unterminated $$", "select :a, $$abc",
						InvalidSqlException.class, "Unterminated dollar-quoted string", "$$ at offset 11 (line 1, column 12)", "no closing $$"),
				error("unterminated $tag$: $other$ does not close it", "select $a$ x $b$ y",
						InvalidSqlException.class, "$a$ at offset 7", "no closing $a$"),
				error("unterminated $tag$: tags are case-sensitive", "select $a$ x $A$",
						InvalidSqlException.class, "$a$ at offset 7", "case-sensitive"),
				error("unterminated block comment", "select 1 /* :x",
						InvalidSqlException.class, "Unterminated block comment", "/* at offset 9 (line 1, column 10)", "expected 1 more */"),
				error("nested block comment closed only once", "select /* /* x */ :a",
						InvalidSqlException.class, "Unterminated block comment", "offset 7", "expected 1 more */", "nest"),
				error("nested block comment never closed", "select\n/* /* x",
						InvalidSqlException.class, "offset 7 (line 2, column 1)", "expected 2 more */", "2 levels are still open"),
				error("named parameters mixed with $1", "select * from t where a = :a and b = $1",
						InvalidSqlException.class, ":a at offset 26 (line 1, column 27)", "$1 at offset 37 (line 1, column 38)", "expected named parameters only"),

				// ---- binding: ParameterException
				error("unknown parameter lists the known names", "select * from t where id = :id",
						List.of(Binding.of("id", 1), Binding.of("idd", 2)),
						ParameterException.class, "Unknown parameter 'idd'", "the SQL has no :idd", "expected one of [id]"),
				error("unknown parameter that differs in case only", "select :userId",
						List.of(Binding.of("userid", 1)),
						ParameterException.class, "Unknown parameter 'userid'", "did you mean 'userId'?"),
				error("binding for SQL without parameters", "select 1",
						List.of(Binding.of("x", 1)),
						ParameterException.class, "Unknown parameter 'x'", "no named parameters"),
				error("missing value names the parameter and its first position", "select :a, :b, :b",
						List.of(Binding.of("a", 1)),
						ParameterException.class, "No value for parameter 'b' at offset 11 (line 1, column 12)", "bind(\"b\", value)", "bindNull(\"b\", Type.class)"),
				error("missing value on line 3", "select :a\nfrom t\nwhere b = :b",
						List.of(Binding.of("a", 1)),
						ParameterException.class, "'b' at offset 27 (line 3, column 11)"),
				error("missing value inside [...] hints at array slices", "select arr[:hi] from t",
						List.of(),
						ParameterException.class, "'hi' at offset 11", "array slice", "[1:hi]", "\\:hi"),
				error("value bound twice", "select * from t where a = :a",
						List.of(Binding.of("a", 1), Binding.of("a", 2)),
						ParameterException.class, "Parameter 'a' (first at offset 26 (line 1, column 27)) is bound twice"),
				error("typed null and a value for the same name is bound twice", "select :a",
						List.of(Binding.ofNull("a", String.class), Binding.of("a", 2)),
						ParameterException.class, "'a'", "bound twice"),
				error("null without a type", "update t set a = :a",
						List.of(Binding.of("a", null)),
						ParameterException.class, "Parameter 'a' at offset 17 (line 1, column 18) is bound to null without a type", "bindNull(\"a\", Type.class)"),
				error("empty collection", "select * from t where id in (:ids)",
						List.of(Binding.of("ids", List.of())),
						ParameterException.class, "Parameter 'ids' is an empty collection at offset 29 (line 1, column 30)", "= any(:ids)"),
				error("null element in a collection", "select * from t where id in (:ids)",
						List.of(Binding.of("ids", Arrays.asList(1, null, 3))),
						ParameterException.class, "'ids' at offset 29", "element 1 of 3 is null"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("errors")
	void reportsWhatIsWrongAndWhere(ErrorCase c) {
		assertThatThrownBy(() -> ParsedSql.parse(c.sql).bind(c.bindings, BindMarkers.POSTGRES_STYLE))
				.isExactlyInstanceOf(c.type)
				.satisfies(e -> assertThat(e.getMessage()).contains(c.fragments).endsWith(" in SQL: " + c.sql));
	}

	/** Messages never carry bound values, which may be personal data. */
	@Test
	void errorMessagesNeverContainBoundValues() {
		ParsedSql parsed = ParsedSql.parse("select * from t where a = :a and b = :b and c in (:c)");
		List<List<Binding>> wrong = List.of(
				List.of(Binding.of("a", "secret-1"), Binding.of("x", "secret-2")),
				List.of(Binding.of("a", "secret-1"), Binding.of("a", "secret-2")),
				List.of(Binding.of("a", "secret-1"), Binding.of("c", List.of("secret-2"))),
				List.of(Binding.of("a", "secret-1"), Binding.of("b", "secret-2"), Binding.of("c", Arrays.asList("secret-3", null))));
		for (List<Binding> bindings : wrong) {
			assertThatThrownBy(() -> parsed.bind(bindings, BindMarkers.POSTGRES_STYLE))
					.isInstanceOf(ParameterException.class)
					.satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret"));
		}
	}

	/** The fast path: SQL without parameters comes back as the very same string, and the same BoundSql each time. */
	@Test
	void sqlWithoutParametersPassesThroughUnchanged() {
		String sql = new String("select * from t where note = ':x' -- :y");
		ParsedSql parsed = ParsedSql.parse(sql);

		BoundSql bound = parsed.bind(List.of(), BindMarkers.POSTGRES_STYLE);

		assertThat(bound.sql()).isSameAs(sql);
		assertThat(bound.values()).isEmpty();
		assertThat(parsed.bind(List.of(), BindMarkers.QUESTION_MARK)).isSameAs(bound);
	}

	/** parse() answers equal SQL strings with one cached instance. */
	@Test
	void parseIsCachedPerSqlString() {
		String sql = "select :cached_" + System.nanoTime();
		assertThat(ParsedSql.parse(new String(sql))).isSameAs(ParsedSql.parse(new String(sql)));
	}

	/** One ParsedSql binds many times with different values, in any binding order. */
	@Test
	void bindingIsRepeatableAndOrderFree() {
		ParsedSql parsed = ParsedSql.parse("insert into t(a, b) values (:a, :b)");

		BoundSql first = parsed.bind(List.of(Binding.of("b", 2), Binding.of("a", 1)), BindMarkers.POSTGRES_STYLE);
		BoundSql second = parsed.bind(List.of(Binding.of("a", 3), Binding.of("b", 4)), BindMarkers.POSTGRES_STYLE);

		assertThat(first).isEqualTo(new BoundSql("insert into t(a, b) values ($1, $2)", List.of(1, 2)));
		assertThat(second.values()).containsExactly(3, 4);
		assertThat(first.values()).isUnmodifiable();
		assertThat(parsed.parameterNames()).isUnmodifiable();
	}

	/** A long IN list keeps numbering past the precomputed markers. */
	@Test
	void largeCollectionsNumberPastTheMarkerTable() {
		List<Integer> ids = new ArrayList<>();
		for (int i = 0; i < 300; i++) {
			ids.add(i);
		}
		BoundSql bound = ParsedSql.parse("select * from t where id in (:ids)").bind(List.of(Binding.of("ids", ids)), BindMarkers.POSTGRES_STYLE);

		assertThat(bound.sql()).startsWith("select * from t where id in ($1, $2, ").endsWith(", $299, $300)");
		assertThat(bound.values()).isEqualTo(ids);
	}

	@Test
	void argumentsAreChecked() {
		ParsedSql parsed = ParsedSql.parse("select :a");
		assertThatNullPointerException().isThrownBy(() -> ParsedSql.parse(null)).withMessage("sql must not be null");
		assertThatNullPointerException().isThrownBy(() -> parsed.bind(null, BindMarkers.POSTGRES_STYLE)).withMessage("bindings must not be null");
		assertThatNullPointerException().isThrownBy(() -> parsed.bind(List.of(), null)).withMessage("markers must not be null");
		assertThatNullPointerException().isThrownBy(() -> parsed.bind(Arrays.asList((Binding) null), BindMarkers.POSTGRES_STYLE))
				.withMessage("bindings must not contain null");
		assertThatNullPointerException().isThrownBy(() -> Binding.of(null, 1)).withMessage("name must not be null");
		assertThatNullPointerException().isThrownBy(() -> Binding.ofNull("a", null)).withMessage("type must not be null");
		assertThatIllegalArgumentException().isThrownBy(() -> BindMarkers.POSTGRES_STYLE.marker(-1))
				.withMessage("zeroBasedIndex must be >= 0, was -1");
		assertThatIllegalArgumentException().isThrownBy(() -> BindMarkers.QUESTION_MARK.marker(-2))
				.withMessage("zeroBasedIndex must be >= 0, was -2");
		assertThat(BindMarkers.POSTGRES_STYLE.marker(0)).isEqualTo("$1");
		assertThat(BindMarkers.POSTGRES_STYLE.marker(999)).isEqualTo("$1000");
	}

	// ---- table plumbing

	private static Case row(String description, String sql, String expected, String... names) {
		return new Case(description, sql, expected, List.of(names));
	}

	private static Arguments error(String description, String sql, Class<? extends RuntimeException> type, String... fragments) {
		return error(description, sql, List.of(), type, fragments);
	}

	private static Arguments error(String description, String sql, List<Binding> bindings, Class<? extends RuntimeException> type,
			String... fragments) {
		return Arguments.of(named(description, new ErrorCase(sql, bindings, type, fragments)));
	}

	record ErrorCase(String sql, List<Binding> bindings, Class<? extends RuntimeException> type, String[] fragments) {
	}

	static final class Case implements Arguments {

		final String description;
		final String sql;
		final String expected;
		final List<String> names;
		final Map<String, Binding> explicit = new LinkedHashMap<>();
		BindMarkers markers = BindMarkers.POSTGRES_STYLE;
		@Nullable List<Object> values;

		Case(String description, String sql, String expected, List<String> names) {
			this.description = description;
			this.sql = sql;
			this.expected = expected;
			this.names = names;
		}

		Case bind(String name, Object value) {
			explicit.put(name, Binding.of(name, value));
			return this;
		}

		Case bindNull(String name, Class<?> type) {
			explicit.put(name, Binding.ofNull(name, type));
			return this;
		}

		Case markers(BindMarkers markers) {
			this.markers = markers;
			return this;
		}

		Case values(Object... values) {
			this.values = List.of(values);
			return this;
		}

		List<Binding> bindings() {
			List<Binding> bindings = new ArrayList<>();
			for (String name : names) {
				bindings.add(explicit.getOrDefault(name, Binding.of(name, name + "-value")));
			}
			return bindings;
		}

		@Override
		public Object[] get() {
			return new Object[] { named(description, this) };
		}
	}
}
