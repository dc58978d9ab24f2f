package io.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import io.tether.context.testing.Database;
import io.tether.core.MappingException;
import io.tether.core.RowMapper;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Row mapping of PostgreSQL's types with r2dbc-postgresql (raw driver, no Tether API). */
class PostgresRowMappersIT {

	private static final String TABLE = "tether_rowmappers_pg_types";
	private static final ConnectionFactory FACTORY = ConnectionFactories.get(Database.postgresUrl());
	private static final UUID ID = UUID.fromString("0b6a8bde-3c1c-4bd1-9ff5-2b8d8d0e5a61");

	enum Mood { HAPPY, SAD }

	@BeforeAll
	static void schema() {
		execute("drop table if exists " + TABLE);
		execute("create table " + TABLE + " (small_value int2, int_value int4, big_value int8, amount numeric(12, 2),"
				+ " body text, title varchar(50), enabled bool, happened_at timestamptz, local_at timestamp,"
				+ " birthday date, id uuid, payload bytea, doc jsonb, mood text)");
		execute("insert into " + TABLE + " values (7, 42, 1099511627776, 1234.50, 'some text', 'a title', true,"
				+ " '2024-01-02 03:04:05.123456+02', '2024-01-02 03:04:05.5', '1990-12-31', '" + ID + "', '\\xcafe',"
				+ " '{\"a\": [1, 2]}', 'happy')");
		execute("insert into " + TABLE + " (small_value) values (null)");
	}

	@AfterAll
	static void drop() {
		execute("drop table if exists " + TABLE);
	}

	record AllTypes(short smallValue, int intValue, long bigValue, BigDecimal amount, String body, String title,
			boolean enabled, OffsetDateTime happenedAt, LocalDateTime localAt, LocalDate birthday, UUID id,
			byte[] payload, String doc, Mood mood) {}

	@Test
	void everyTypeIntoARecord() {
		AllTypes row = query("select * from " + TABLE + " where int_value = 42", AllTypes.class).get(0);
		assertThat(row.smallValue()).isEqualTo((short) 7);
		assertThat(row.intValue()).isEqualTo(42);
		assertThat(row.bigValue()).isEqualTo(1099511627776L);
		assertThat(row.amount()).isEqualTo(new BigDecimal("1234.50"));
		assertThat(row.body()).isEqualTo("some text");
		assertThat(row.title()).isEqualTo("a title");
		assertThat(row.enabled()).isTrue();
		assertThat(row.happenedAt().toInstant()).isEqualTo(Instant.parse("2024-01-02T01:04:05.123456Z"));
		assertThat(row.localAt()).isEqualTo(LocalDateTime.of(2024, 1, 2, 3, 4, 5, 500_000_000));
		assertThat(row.birthday()).isEqualTo(LocalDate.of(1990, 12, 31));
		assertThat(row.id()).isEqualTo(ID);
		assertThat(row.payload()).containsExactly(0xca, 0xfe);
		assertThat(row.doc()).isEqualTo("{\"a\": [1, 2]}");
		assertThat(row.mood()).isEqualTo(Mood.HAPPY);
	}

	record Converted(long smallValue, long intValue, BigDecimal bigValue, long amount, Instant happenedAt,
			ByteBuffer payload, Double big) {}

	@Test
	void wideningAndExactConversions() {
		Converted row = query("select small_value, int_value, big_value, 1234.00::numeric as amount, happened_at,"
				+ " payload, int_value as big from " + TABLE + " where int_value = 42", Converted.class).get(0);
		assertThat(row).isEqualTo(new Converted(7L, 42L, new BigDecimal(1099511627776L), 1234L,
				Instant.parse("2024-01-02T01:04:05.123456Z"), ByteBuffer.wrap(new byte[] {(byte) 0xca, (byte) 0xfe}), 42.0));
	}

	/** r2dbc-postgresql itself would return {@code Number.intValue()} of the int8: 0 for 2^40. */
	@Test
	void narrowingThatDoesNotFitIsAnErrorNotATruncation() {
		record Truncated(int bigValue) {}
		assertThatThrownBy(() -> query("select big_value from " + TABLE + " where int_value = 42", Truncated.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Column 'big_value' (value of type java.lang.Long) does not fit into int for component"
						+ " 'bigValue' of record " + Truncated.class.getName()
						+ ": the value is out of range or not a whole number");
		record Fraction(long amount) {}
		assertThatThrownBy(() -> query("select amount from " + TABLE + " where int_value = 42", Fraction.class))
				.hasMessageStartingWith("Column 'amount' (value of type java.math.BigDecimal) does not fit into long");
	}

	@Test
	void simpleTypesAndNull() {
		assertThat(query("select count(*) from " + TABLE, int.class)).containsExactly(2);
		assertThat(query("select doc from " + TABLE + " where int_value = 42", String.class))
				.containsExactly("{\"a\": [1, 2]}");
		assertThat(query("select array[1, 2, 3]", Integer[].class)).singleElement()
				.satisfies(a -> assertThat(a).containsExactly(1, 2, 3));
		RowMapper<Integer> boxed = RowMappers.forClass(Integer.class);
		assertThat(Flux.usingWhen(FACTORY.create(),
						c -> Flux.from(c.createStatement("select int_value from " + TABLE + " where small_value is null")
								.execute()).flatMap(r -> r.map((row, md) -> String.valueOf(boxed.map(row, md)))),
						Connection::close)
				.collectList().block(Duration.ofSeconds(30))).containsExactly("null");
		assertThatThrownBy(() -> query("select int_value from " + TABLE + " where small_value is null", int.class))
				.hasMessage("Column 'int_value' is NULL but result type int has primitive type int; declare it as"
						+ " java.lang.Integer to accept NULL");
	}

	private static <T> List<T> query(String sql, Class<T> type) {
		RowMapper<T> mapper = RowMappers.forClass(type);
		return Flux.usingWhen(FACTORY.create(),
						c -> Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.map(mapper::map)),
						Connection::close)
				.collectList()
				.block(Duration.ofSeconds(30));
	}

	private static void execute(String sql) {
		Mono.usingWhen(FACTORY.create(),
						c -> Flux.from(c.createStatement(sql).execute()).flatMap(Result::getRowsUpdated).then(),
						Connection::close)
				.block(Duration.ofSeconds(30));
	}
}
