package io.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Named.named;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Statement;
import io.tether.context.testing.Database;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The parser's lexical rules checked against PostgreSQL itself: each statement is parsed, bound with
 * {@code $n} markers and run with the raw r2dbc-postgresql driver. If Tether saw a parameter where PostgreSQL
 * sees text (or the reverse), the server would reject the statement or return another value.
 */
class ParsedSqlPostgresIT {

	private static ConnectionFactory factory;

	@BeforeAll
	static void connect() {
		factory = ConnectionFactories.get(Database.postgresUrl());
	}

	static Stream<Arguments> statements() {
		return Stream.of(
				run("E'..\\'..' is one string", "select E'it\\'s :x' || :a",
						List.of(Binding.of("a", "!")), "it's :x!"),
				run("where'\\' is a keyword and a standard string", "select 'ok' where'\\' = :p",
						List.of(Binding.of("p", "\\")), "ok"),
				run("$t$ with $o$ inside", "select $t$ :x $o$ :y $o$ $t$ || :a",
						List.of(Binding.of("a", "!")), " :x $o$ :y $o$ !"),
				run("a carriage return ends a -- comment", "select :a -- :x\r|| 'b'",
						List.of(Binding.of("a", "!")), "!b"),
				run("nested block comment", "select /* /* :x */ :y */ :a::text",
						List.of(Binding.of("a", "!")), "!"),
				run("col$a$ is an identifier", "select col$a$::text || :a from (select 5 as col$a$) t",
						List.of(Binding.of("a", "!")), "5!"),
				run("subscript parameter with cast, and a column slice",
						"select ((array[10,20,30,40])[:i::int])::text || ' ' || ((array[10,20,30,40])[lo:hi])::text from (select 2 as lo, 3 as hi) t",
						List.of(Binding.of("i", 1)), "10 {20,30}"),
				run("\\:hi is the literal slice [:hi]", "select ((array[1,2,3])[\\:hi])::text || :a from (select 2 as hi) t",
						List.of(Binding.of("a", "!")), "{1,2}!"),
				run("jsonb ? operator next to a parameter", "select ('{\"k\":1}'::jsonb ? 'k')::text || :a",
						List.of(Binding.of("a", "!")), "true!"),
				run("collection expands into IN", "select string_agg(v::text, ',' order by v) from unnest(array[1,2,3,4]) v where v in (:ids)",
						List.of(Binding.of("ids", List.of(2, 4))), "2,4"),
				run("repeated name", "select :a || '-' || :a",
						List.of(Binding.of("a", "x")), "x-x"),
				run("typed null", "select coalesce(:n, 'was null')",
						List.of(Binding.ofNull("n", String.class)), "was null"),
				run("array value is not expanded", "select array_length(:ids, 1)::text",
						List.of(Binding.of("ids", new Integer[] { 1, 2, 3 })), "3"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("statements")
	void postgresAgreesWithTheParser(Run r) {
		BoundSql bound = ParsedSql.parse(r.sql).bind(r.bindings, BindMarkers.POSTGRES_STYLE);

		Mono<String> result = Mono.usingWhen(factory.create(),
				connection -> Flux.from(statement(connection, bound).execute())
						.concatMap(res -> res.map((row, metadata) -> String.valueOf(row.get(0, String.class))))
						.single(),
				Connection::close);

		result.as(StepVerifier::create)
				.assertNext(value -> assertThat(value).as(bound.sql()).isEqualTo(r.expected))
				.expectComplete()
				.verify(Duration.ofSeconds(30));
	}

	private static Statement statement(Connection connection, BoundSql bound) {
		Statement statement = connection.createStatement(bound.sql());
		List<Object> values = bound.values();
		for (int i = 0; i < values.size(); i++) {
			Object value = values.get(i);
			if (value instanceof NullValue nullValue) {
				statement.bindNull(i, nullValue.type());
			}
			else {
				statement.bind(i, value);
			}
		}
		return statement;
	}

	private static Arguments run(String description, String sql, List<Binding> bindings, String expected) {
		return Arguments.of(named(description, new Run(sql, bindings, expected)));
	}

	record Run(String sql, List<Binding> bindings, String expected) {
	}
}
