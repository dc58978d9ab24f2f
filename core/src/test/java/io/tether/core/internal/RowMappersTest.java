package io.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Statement;
import io.tether.core.MappingException;
import io.tether.core.RowMapper;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Row mapping against real H2 rows (r2dbc-h2 directly, no Tether API). H2 reports unquoted labels in upper
 * case ({@code USER_ID}), which exercises the case-insensitive snake_case matching on every test.
 */
class RowMappersTest {

	private static final ConnectionFactory FACTORY = ConnectionFactories.get("r2dbc:h2:mem:///tether_rowmappers_"
			+ UUID.randomUUID().toString().replace("-", "") + "?options=DB_CLOSE_DELAY=-1");

	private static final UUID ID = UUID.fromString("0b6a8bde-3c1c-4bd1-9ff5-2b8d8d0e5a61");

	@BeforeAll
	static void schema() {
		execute("create table users (user_id bigint primary key, email_address varchar(100), active boolean,"
				+ " created_at timestamp, age int, status varchar(20))");
		execute("insert into users values (1, 'ada@example.com', true, timestamp '2024-01-02 03:04:05', 36, 'ACTIVE')");
		execute("insert into users values (2, 'bob@example.com', false, timestamp '2024-02-03 04:05:06', null, 'locked')");
		execute("insert into users values (3, null, null, null, null, 'nope')");
	}

	// ---- records ------------------------------------------------------------------------------------------

	enum Status { ACTIVE, LOCKED }

	record User(long userId, String emailAddress, boolean active, LocalDateTime createdAt) {}

	@Test
	void recordFromUpperCaseSnakeCaseLabels() {
		assertThat(query("select user_id, email_address, active, created_at from users where user_id <= 2 order by user_id",
				User.class)).containsExactly(
						new User(1, "ada@example.com", true, LocalDateTime.of(2024, 1, 2, 3, 4, 5)),
						new User(2, "bob@example.com", false, LocalDateTime.of(2024, 2, 3, 4, 5, 6)));
	}

	@Test
	void recordFromCamelCaseAndLowerCaseLabelsInAnyOrder() {
		assertThat(query("select created_at as \"createdAt\", active as \"active\", email_address as \"emailaddress\","
				+ " user_id as \"userId\" from users where user_id = 1", User.class))
				.containsExactly(new User(1, "ada@example.com", true, LocalDateTime.of(2024, 1, 2, 3, 4, 5)));
	}

	@Test
	void extraColumnsAreIgnored() {
		assertThat(query("select age, user_id, status, email_address, 42 as answer, active, created_at from users"
				+ " where user_id = 1", User.class))
				.containsExactly(new User(1, "ada@example.com", true, LocalDateTime.of(2024, 1, 2, 3, 4, 5)));
	}

	@Test
	void anExactLabelWinsOverAnUnderscoreMatchAndTheFirstOfEqualLabelsWins() {
		record Pair(int userId, int other) {}
		assertThat(query("select 1 as user_id, 2 as userid, 3 as other, 4 as other", Pair.class))
				.containsExactly(new Pair(2, 3));
	}

	@Test
	void missingColumnNamesComponentRecordAndColumnsPresent() {
		assertThatThrownBy(() -> query("select user_id, active from users where user_id = 1", User.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Cannot map the row to record " + User.class.getName() + ": no column for components"
						+ " 'emailAddress' (expected label emailAddress or email_address), 'createdAt' (expected label"
						+ " createdAt or created_at), matched case-insensitively; the row has columns: USER_ID, ACTIVE");
	}

	@Test
	void nullIntoPrimitiveComponentIsAnErrorNamingTheBoxedType() {
		assertThatThrownBy(() -> query("select user_id, email_address, active, created_at from users where user_id = 3",
				User.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Column 'ACTIVE' is NULL but component 'active' of record " + User.class.getName()
						+ " has primitive type boolean; declare it as java.lang.Boolean to accept NULL");
	}

	@Test
	void nullIntoReferenceComponentIsNull() {
		record Nullable(Long userId, String emailAddress, Boolean active, Integer age) {}
		assertThat(query("select user_id, email_address, active, age from users where user_id = 3", Nullable.class))
				.containsExactly(new Nullable(3L, null, null, null));
	}

	@Test
	void unconvertibleValueNamesColumnValueTypeTargetAndComponent() {
		record Dated(LocalDate emailAddress) {}
		assertThatThrownBy(() -> query("select email_address from users where user_id = 1", Dated.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Cannot convert column 'EMAIL_ADDRESS' (value of type java.lang.String) to java.time.LocalDate"
						+ " for component 'emailAddress' of record " + Dated.class.getName())
				.hasMessageNotContaining("ada@example.com");
	}

	record Narrow(int big, short small, byte tiny, long whole) {}

	@Test
	void numbersNarrowWhenTheValueFits() {
		assertThat(query("select cast(3 as bigint) as big, cast(300 as bigint) as small, cast(-7 as int) as tiny,"
				+ " cast(2.00 as decimal(10, 2)) as whole", Narrow.class))
				.containsExactly(new Narrow(3, (short) 300, (byte) -7, 2L));
	}

	@Test
	void narrowingOverflowIsAnError() {
		assertThatThrownBy(() -> query("select cast(1099511627776 as bigint) as big, 1 as small, 1 as tiny, 1 as whole",
				Narrow.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Column 'BIG' (value of type java.lang.Long) does not fit into int for component 'big' of record "
						+ Narrow.class.getName() + ": the value is out of range or not a whole number")
				.hasMessageNotContaining("1099511627776");
		assertThatThrownBy(() -> query("select 1 as big, 1 as small, 128 as tiny, 1 as whole", Narrow.class))
				.hasMessageContaining("Column 'TINY' (value of type java.lang.Integer) does not fit into byte");
		assertThatThrownBy(() -> query("select 1 as big, 1 as small, 1 as tiny, cast(1.5 as decimal(10, 2)) as whole",
				Narrow.class))
				.hasMessageContaining("Column 'WHOLE' (value of type java.math.BigDecimal) does not fit into long");
	}

	record Widened(long age, BigDecimal userId, BigInteger big, double ratio, Double exact) {}

	@Test
	void numbersWidenAndDecimalsBecomeDoubles() {
		assertThat(query("select cast(36 as int) as age, cast(1 as bigint) as user_id, cast(12 as smallint) as big,"
				+ " cast(0.25 as decimal(5, 2)) as ratio, cast(9007199254740992 as bigint) as exact", Widened.class))
				.containsExactly(new Widened(36L, BigDecimal.ONE, BigInteger.valueOf(12), 0.25, 9007199254740992.0));
		assertThatThrownBy(() -> query("select 1 as age, 1 as user_id, 1 as big, 1 as ratio,"
				+ " cast(9007199254740993 as bigint) as exact", Widened.class))
				.hasMessageContaining("Column 'EXACT' (value of type java.lang.Long) does not fit into java.lang.Double");
	}

	record WithStatus(long userId, Status status) {}

	@Test
	void enumsByNameThenCaseInsensitively() {
		assertThat(query("select user_id, status from users where user_id <= 2 order by user_id", WithStatus.class))
				.containsExactly(new WithStatus(1, Status.ACTIVE), new WithStatus(2, Status.LOCKED));
	}

	@Test
	void unknownEnumNameIsAnErrorThatDoesNotQuoteTheValue() {
		assertThatThrownBy(() -> query("select user_id, status from users where user_id = 3", WithStatus.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Column 'STATUS' (value of type java.lang.String) names no constant of enum "
						+ Status.class.getName() + " for component 'status' of record " + WithStatus.class.getName())
				.hasMessageNotContaining("nope");
	}

	record Everything(UUID id, byte[] bytes, ByteBuffer buffer, OffsetDateTime at, java.time.Instant instant,
			LocalDate onDay, char initial, String text) {}

	@Test
	void driverTypesAndTheFallbackConversions() {
		Everything e = query("select cast('" + ID + "' as uuid) as id, X'cafe' as bytes, X'beef' as buffer,"
				+ " timestamp with time zone '2024-01-02 03:04:05+02:00' as at,"
				+ " timestamp with time zone '2024-01-02 03:04:05+02:00' as instant, date '2024-01-02' as on_day,"
				+ " 'A' as initial, 'hello' as text", Everything.class).get(0);
		assertThat(e.id()).isEqualTo(ID);
		assertThat(e.bytes()).containsExactly(0xca, 0xfe);
		assertThat(e.buffer()).isEqualTo(ByteBuffer.wrap(new byte[] {(byte) 0xbe, (byte) 0xef}));
		assertThat(e.at()).isEqualTo(OffsetDateTime.parse("2024-01-02T03:04:05+02:00"));
		assertThat(e.instant()).isEqualTo(java.time.Instant.parse("2024-01-02T01:04:05Z"));
		assertThat(e.onDay()).isEqualTo(LocalDate.of(2024, 1, 2));
		assertThat(e.initial()).isEqualTo('A');
		assertThat(e.text()).isEqualTo("hello");
	}

	@Test
	void uuidFromStringColumn() {
		record Id(UUID id) {}
		assertThat(query("select '" + ID + "' as id", Id.class)).containsExactly(new Id(ID));
		assertThatThrownBy(() -> query("select 'not-a-uuid' as id", Id.class))
				.hasMessage("Column 'ID' (value of type java.lang.String) is not a UUID for component 'id' of record "
						+ Id.class.getName())
				.hasMessageNotContaining("not-a-uuid");
	}

	@Test
	void noConversionFromNumberToBoolean() {
		record Flag(boolean active) {}
		assertThatThrownBy(() -> query("select cast(1 as int) as active", Flag.class))
				.isInstanceOf(MappingException.class)
				.hasMessageStartingWith("Cannot convert column 'ACTIVE' (value of type java.lang.Integer) to boolean");
	}

	@Test
	void theSameClassMapsDifferentColumnLayoutsInTurn() {
		record Two(int a, String b) {}
		for (int i = 0; i < 3; i++) {
			assertThat(query("select 1 as a, 'x' as b", Two.class)).containsExactly(new Two(1, "x"));
			assertThat(query("select 'y' as b, 2 as a", Two.class)).containsExactly(new Two(2, "y"));
			assertThat(query("select 'z' as b, 0 as pad, 3 as a", Two.class)).containsExactly(new Two(3, "z"));
		}
	}

	@Test
	void manyRowsMapCorrectly() {
		record Num(long x, String label) {}
		List<Num> rows = query("select x, 'n' || x as label from system_range(1, 5000)", Num.class);
		assertThat(rows).hasSize(5000);
		for (int i = 0; i < rows.size(); i++) {
			assertThat(rows.get(i)).isEqualTo(new Num(i + 1, "n" + (i + 1)));
		}
	}

	@Test
	void aLayoutIsMatchedOncePerLabelListNotPerRow() {
		MappingSlot[] slots = {new MappingSlot("userId", long.class, "component 'userId'", null)};
		MappingColumns columns = new MappingColumns("record Test", slots, true);
		List<RowMetadata> metadata = rows("select user_id, 1 as pad from users order by user_id", (row, md) -> md);
		List<RowMetadata> other = rows("select 1 as pad, user_id from users order by user_id", (row, md) -> md);

		MappingColumns.Layout first = columns.layout(metadata.get(0));
		assertThat(first.columns).containsExactly(0);
		for (RowMetadata md : metadata) {
			assertThat(columns.layout(md)).isSameAs(first);
		}
		MappingColumns.Layout second = columns.layout(other.get(0));
		assertThat(second.columns).containsExactly(1);
		assertThat(columns.layout(metadata.get(1))).as("a layout seen before comes from the cache").isSameAs(first);
	}

	@Test
	void constructorFailureIsWrappedWithoutItsMessage() {
		record Checked(String emailAddress) {
			Checked {
				if (emailAddress.startsWith("bob")) {
					throw new IllegalArgumentException("rejected " + emailAddress);
				}
			}
		}
		assertThatThrownBy(() -> query("select email_address from users where user_id = 2", Checked.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("The canonical constructor of record " + Checked.class.getName()
						+ " threw java.lang.IllegalArgumentException for the row with columns EMAIL_ADDRESS (see the cause)")
				.hasCauseInstanceOf(IllegalArgumentException.class);
	}

	// ---- types that are not mapped ------------------------------------------------------------------------

	record Address(String street) {}

	record WithAddress(long userId, Address address) {}

	record WithTags(long userId, List<String> tags) {}

	@Test
	void nestedRecordsAndCollectionsAreRefusedWhenTheMapperIsCreated() {
		assertThatThrownBy(() -> RowMappers.forClass(WithAddress.class))
				.isInstanceOf(MappingException.class)
				.hasMessageStartingWith("Cannot map rows to record " + WithAddress.class.getName() + ": component 'address'"
						+ " of record " + WithAddress.class.getName() + " has type " + Address.class.getName()
						+ ", which cannot be mapped: nested records are not mapped");
		assertThatThrownBy(() -> RowMappers.forClass(WithTags.class))
				.isInstanceOf(MappingException.class)
				.hasMessageContaining("component 'tags'")
				.hasMessageContaining("collections are not mapped; use an array type");
		assertThatThrownBy(() -> RowMappers.forClass(List.class))
				.hasMessageStartingWith("Cannot map rows to java.util.List: collections are not mapped");
		assertThatThrownBy(() -> RowMappers.forClass(Optional.class))
				.hasMessage("Cannot map rows to java.util.Optional: Optional is not mapped; use a nullable type");
	}

	@Test
	void mappersAreCachedPerClass() {
		assertThat(RowMappers.forClass(User.class)).isSameAs(RowMappers.forClass(User.class));
		assertThat(RowMappers.forClass(Long.class)).isSameAs(RowMappers.forClass(Long.class));
	}

	// ---- JavaBeans ----------------------------------------------------------------------------------------

	public static class UserBean {
		private long userId;
		private String emailAddress;
		private Integer age;
		private boolean active = true;
		private String untouched = "initial";

		public void setUserId(long userId) {
			this.userId = userId;
		}

		public void setEmailAddress(String emailAddress) {
			this.emailAddress = emailAddress;
		}

		public UserBean setAge(Integer age) {
			this.age = age;
			return this;
		}

		public void setActive(boolean active) {
			this.active = active;
		}

		public void setUntouched(String untouched) {
			this.untouched = untouched;
		}
	}

	@Test
	void beanPropertiesFromMatchingColumnsOthersKeepTheirValue() {
		List<UserBean> beans = query("select user_id, email_address, age, status from users where user_id <= 2"
				+ " order by user_id", UserBean.class);
		assertThat(beans).extracting(b -> b.userId, b -> b.emailAddress, b -> b.age, b -> b.active, b -> b.untouched)
				.containsExactly(
						org.assertj.core.groups.Tuple.tuple(1L, "ada@example.com", 36, true, "initial"),
						org.assertj.core.groups.Tuple.tuple(2L, "bob@example.com", null, true, "initial"));
	}

	@Test
	void beanWithoutAnyMatchingColumnIsAnError() {
		assertThatThrownBy(() -> query("select status, created_at from users where user_id = 1", UserBean.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Cannot map the row to bean " + UserBean.class.getName() + ": no column matches any of its"
						+ " properties [active, age, emailAddress, untouched, userId] (labels are matched case-insensitively,"
						+ " user_id to userId); the row has columns: STATUS, CREATED_AT");
	}

	@Test
	void nullIntoPrimitiveBeanPropertyIsAnError() {
		assertThatThrownBy(() -> query("select user_id, active from users where user_id = 3", UserBean.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Column 'ACTIVE' is NULL but property 'active' of bean " + UserBean.class.getName()
						+ " has primitive type boolean; declare it as java.lang.Boolean to accept NULL");
	}

	// ---- simple types -------------------------------------------------------------------------------------

	@Test
	void simpleTypesFromOneColumn() {
		assertThat(query("select count(*) from users", Long.class)).containsExactly(3L);
		assertThat(query("select count(*) from users", int.class)).containsExactly(3);
		assertThat(query("select email_address from users where user_id = 1", String.class))
				.containsExactly("ada@example.com");
		assertThat(query("select status from users where user_id <= 2 order by user_id", Status.class))
				.containsExactly(Status.ACTIVE, Status.LOCKED);
		assertThat(query("select cast(12.50 as decimal(10, 2))", BigDecimal.class)).containsExactly(new BigDecimal("12.50"));
		assertThat(query("select cast('" + ID + "' as uuid)", UUID.class)).containsExactly(ID);
		assertThat(query("select date '2024-01-02'", LocalDate.class)).containsExactly(LocalDate.of(2024, 1, 2));
		assertThat(query("select X'cafe'", byte[].class)).singleElement()
				.satisfies(b -> assertThat(b).containsExactly(0xca, 0xfe));
		assertThat(query("select true", Boolean.class)).containsExactly(true);
		assertThat(query("select cast(7 as int)", Object.class)).containsExactly(7);
	}

	@Test
	void simpleTypeNullIsNullExceptForPrimitives() {
		RowMapper<Integer> boxed = RowMappers.forClass(Integer.class);
		assertThat(rows("select age from users where user_id = 3", (row, md) -> Optional.ofNullable(boxed.map(row, md))))
				.containsExactly(Optional.empty());
		assertThatThrownBy(() -> query("select age from users where user_id = 3", int.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Column 'AGE' is NULL but result type int has primitive type int; declare it as"
						+ " java.lang.Integer to accept NULL");
	}

	@Test
	void moreThanOneColumnForASimpleTypeIsAnError() {
		assertThatThrownBy(() -> query("select user_id, email_address, active from users where user_id = 1", Long.class))
				.isInstanceOf(MappingException.class)
				.hasMessage("Expected 1 column for java.lang.Long, got 3: USER_ID, EMAIL_ADDRESS, ACTIVE");
	}

	public static final class Opaque {
		public Opaque(String ignored) {
		}
	}

	@Test
	void aClassThatIsNeitherRecordNorBeanSaysSoWhenTheRowHasSeveralColumns() {
		assertThatThrownBy(() -> query("select user_id, active from users where user_id = 1", Opaque.class))
				.hasMessage("Expected 1 column for " + Opaque.class.getName() + ", got 2: USER_ID, ACTIVE ("
						+ Opaque.class.getName() + " is neither a record nor a JavaBean with a public no-argument"
						+ " constructor and setters, so it is read as a single value)");
	}

	// ---- plumbing -----------------------------------------------------------------------------------------

	private static <T> List<T> query(String sql, Class<T> type) {
		RowMapper<T> mapper = RowMappers.forClass(type);
		return rows(sql, mapper::map);
	}

	private static <T> List<T> rows(String sql, BiFunction<io.r2dbc.spi.Row, RowMetadata, T> mapper) {
		return Flux.usingWhen(FACTORY.create(),
						c -> Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.map(mapper)),
						Connection::close)
				.collectList()
				.block(Duration.ofSeconds(30));
	}

	private static void execute(String sql) {
		Mono.usingWhen(FACTORY.create(),
						c -> {
							Statement s = c.createStatement(sql);
							return Flux.from(s.execute()).flatMap(Result::getRowsUpdated).then();
						},
						Connection::close)
				.block(Duration.ofSeconds(30));
	}
}
