package io.tether.benchmarks;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.tether.core.Database;
import io.tether.pool.PoolSettings;
import io.tether.pool.TetherPool;
import io.tether.pool.ValidationMode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What does Tether's {@code Database} API cost, compared with the raw R2DBC code it replaces?
 *
 * <p>One operation is one query on H2 in-memory, outside any scope, so each variant acquires a connection,
 * runs the statement, maps the rows to {@link Item} records and releases the connection. All variants use the
 * same warmed {@link TetherPool} ({@code maxSize} = {@code minIdle} = 4, validation {@code NEVER}), so only
 * the API on top of it differs:
 * <ul>
 *   <li>{@code raw_*}: {@code Mono.usingWhen(pool.create(), ..., Connection::close)} around
 *       {@code createStatement} with a {@code $1} marker bound by index and the hand-written mapper
 *       {@link #item}: what the code looks like without Tether;</li>
 *   <li>{@code tether_mapTo_*}: {@code db.sql("... :id").bind("id", 7L).mapTo(Item.class)}: named parameters
 *       (parsed once per SQL text, then cached), reflective record mapping by column label, Tether's
 *       statement gate, logging hooks and error translation;</li>
 *   <li>{@code tether_map_*}: the same with {@code map(DatabaseApiBenchmark::item)}, the hand-written mapper of
 *       the raw variants, which separates the cost of {@code mapTo} from the rest.</li>
 * </ul>
 * {@code *_one} selects the row with {@code id = 7} ({@code one()}: empty for no row, an error for several,
 * which the raw variant matches with {@code singleOrEmpty()}); {@code *_all100} selects all 100 rows of the
 * table in {@code id} order and collects them into a list.
 *
 * <p>{@link #setUp()} checks that every variant returns the same record (or the same 100 records) before
 * anything is measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 8, time = 2, timeUnit = TimeUnit.SECONDS)
public class DatabaseApiBenchmark {

	static final String URL = "r2dbc:h2:mem:///bench_api?options=DB_CLOSE_DELAY=-1";

	static final String ONE = "select id, title from items where id = :id";
	static final String ONE_RAW = "select id, title from items where id = $1";
	static final String ALL = "select id, title from items where id > :min order by id";
	static final String ALL_RAW = "select id, title from items where id > $1 order by id";

	static final int ROWS = 100;

	/** A row of {@code items}. */
	public record Item(long id, String title) {
	}

	private @Nullable TetherPool pool;
	private @Nullable Database db;

	@Setup(Level.Trial)
	public void setUp() {
		TetherPool p = TetherPool.create(ConnectionFactories.get(URL), PoolSettings.builder()
				.name("bench-api")
				.maxSize(4)
				.minIdle(4)
				.validation(ValidationMode.NEVER)
				.acquireTimeout(Duration.ofSeconds(10))
				.build());
		p.warmup().block();
		pool = p;
		Database d = Database.of(p);
		db = d;
		d.sql("drop table if exists items").then()
				.then(d.sql("create table items (id bigint primary key, title varchar(100) not null)").then())
				.then(d.sql("insert into items (id, title) select x, 'item ' || x from system_range(1, " + ROWS + ")")
						.rowsUpdated())
				.block();
		Item seven = new Item(7, "item 7");
		check("raw_one", raw_one(), seven);
		check("tether_mapTo_one", tether_mapTo_one(), seven);
		check("tether_map_one", tether_map_one(), seven);
		List<Item> expected = Flux.range(1, ROWS).map(i -> new Item(i, "item " + i)).collectList().block();
		check("raw_all100", raw_all100(), expected);
		check("tether_mapTo_all100", tether_mapTo_all100(), expected);
		check("tether_map_all100", tether_map_all100(), expected);
	}

	private static void check(String variant, @Nullable Object result, @Nullable Object expected) {
		if (result == null || !result.equals(expected)) {
			throw new IllegalStateException(variant + " returned " + result + ", expected " + expected);
		}
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		TetherPool p = pool;
		pool = null;
		db = null;
		if (p != null) {
			p.close(Duration.ofSeconds(10)).block(Duration.ofSeconds(20));
		}
	}

	/** (a) Raw R2DBC, one row. */
	@Benchmark
	public @Nullable Item raw_one() {
		return Mono.usingWhen(pool().create(),
						c -> Flux.from(c.createStatement(ONE_RAW).bind(0, 7L).execute())
								.flatMap(r -> r.map(DatabaseApiBenchmark::item))
								.singleOrEmpty(),
						Connection::close)
				.block();
	}

	/** (b) Tether, {@code mapTo(Item.class)}, one row. */
	@Benchmark
	public @Nullable Item tether_mapTo_one() {
		return db().sql(ONE).bind("id", 7L).mapTo(Item.class).one().block();
	}

	/** (c) Tether, hand-written mapper, one row. */
	@Benchmark
	public @Nullable Item tether_map_one() {
		return db().sql(ONE).bind("id", 7L).map(DatabaseApiBenchmark::item).one().block();
	}

	/** (a) Raw R2DBC, 100 rows. */
	@Benchmark
	public @Nullable List<Item> raw_all100() {
		return Mono.usingWhen(pool().create(),
						c -> Flux.from(c.createStatement(ALL_RAW).bind(0, 0L).execute())
								.flatMap(r -> r.map(DatabaseApiBenchmark::item))
								.collectList(),
						Connection::close)
				.block();
	}

	/** (b) Tether, {@code mapTo(Item.class)}, 100 rows. */
	@Benchmark
	public @Nullable List<Item> tether_mapTo_all100() {
		return db().sql(ALL).bind("min", 0L).mapTo(Item.class).all().collectList().block();
	}

	/** (c) Tether, hand-written mapper, 100 rows. */
	@Benchmark
	public @Nullable List<Item> tether_map_all100() {
		return db().sql(ALL).bind("min", 0L).map(DatabaseApiBenchmark::item).all().collectList().block();
	}

	/** The hand-written mapper, the same in the raw and the {@code tether_map_*} variants. */
	static Item item(Row row, RowMetadata metadata) {
		Long id = row.get(0, Long.class);
		String title = row.get(1, String.class);
		if (id == null || title == null) {
			throw new IllegalStateException("items has a null in a not-null column: " + id + ", " + title);
		}
		return new Item(id, title);
	}

	private TetherPool pool() {
		TetherPool p = pool;
		if (p == null) {
			throw new IllegalStateException("setUp() has not run");
		}
		return p;
	}

	private Database db() {
		Database d = db;
		if (d == null) {
			throw new IllegalStateException("setUp() has not run");
		}
		return d;
	}
}
