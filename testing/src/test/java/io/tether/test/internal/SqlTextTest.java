package io.tether.test.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SqlTextTest {

	@Test
	void splitsAtSemicolonsOutsideQuotesCommentsAndDollarBodies() {
		String script = "create table t (a varchar(10) default ';');\n"
				+ "-- a comment; with a semicolon\n"
				+ "insert into \"odd;name\" values ('it''s; fine');\n"
				+ "/* block; /* nested; */ still; */ select 1;\n"
				+ "create function f() returns int language sql as $body$ select 1; $body$;\n"
				+ "do $$ begin perform 1; end $$;\n"
				+ "select $1 ;  ;\n"
				+ "-- only a comment\n";
		assertThat(SqlText.statements(script)).containsExactly(
				"create table t (a varchar(10) default ';')",
				"-- a comment; with a semicolon\ninsert into \"odd;name\" values ('it''s; fine')",
				"/* block; /* nested; */ still; */ select 1",
				"create function f() returns int language sql as $body$ select 1; $body$",
				"do $$ begin perform 1; end $$",
				"select $1");
	}

	@Test
	void tellsReadsFromPossibleWrites() {
		assertThat(SqlText.mayChangeData("  select * from t")).isFalse();
		assertThat(SqlText.mayChangeData("/* hint */ (SELECT 1) union (select 2)")).isFalse();
		assertThat(SqlText.mayChangeData("-- c\nVALUES 1")).isFalse();
		assertThat(SqlText.mayChangeData("with x as (select 1) select * from x")).isFalse();
		assertThat(SqlText.mayChangeData("SET statement_timeout = 0")).isFalse();

		assertThat(SqlText.mayChangeData("insert into t values (1)")).isTrue();
		assertThat(SqlText.mayChangeData("UPDATE t set a = 1")).isTrue();
		assertThat(SqlText.mayChangeData("with x as (delete from t returning *) select * from x")).isTrue();
		assertThat(SqlText.mayChangeData("create table t (a int)")).isTrue();
		assertThat(SqlText.mayChangeData("call p()")).isTrue();
	}
}
