package io.tether.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.testing.Database;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The basics observed on a real PostgreSQL server through backend PIDs: init SQL runs once per backend,
 * and {@code maxUses} rotates backends. (The reliability suites live in {@code io.tether.pool.reliability}.)
 */
class PoolBasicsIT {

	private static final String INIT_LOG = "tether_pool_basics_init_log";
	/** Unique per run: sessions are server-wide, and another run may be using the same server at the same time. */
	private static final String APP = "tether-basics-it-" + UUID.randomUUID().toString().substring(0, 8);

	private static ConnectionFactory direct;

	@BeforeAll
	static void createTable() {
		direct = Database.POSTGRES.connectionFactory();
		run("DROP TABLE IF EXISTS " + INIT_LOG);
		run("CREATE TABLE " + INIT_LOG + " (pid INT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())");
	}

	@AfterAll
	static void dropTable() {
		run("DROP TABLE IF EXISTS " + INIT_LOG);
	}

	private static void run(String sql) {
		Mono.usingWhen(Mono.from(direct.create()),
				c -> Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.getRowsUpdated()).then(),
				Connection::close).block(Duration.ofSeconds(30));
	}

	private static <T> Mono<T> one(Connection c, String sql, Class<T> type) {
		return Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.map((row, md) -> row.get(0, type))).single();
	}

	private static <T> T single(Connection c, String sql, Class<T> type) {
		return one(c, sql, type).block(Duration.ofSeconds(30));
	}

	private static TetherPool pool(PoolSettings.Builder settings) {
		return TetherPool.create(Database.POSTGRES.connectionFactory(), settings.acquireTimeout(Duration.ofSeconds(10)).build());
	}

	@Test
	void initSqlRunsOncePerBackend() {
		TetherPool pool = pool(PoolSettings.builder().name("basics-init").maxSize(3)
				.initSql("INSERT INTO " + INIT_LOG + " (pid) VALUES (pg_backend_pid())",
						"SET application_name = '" + APP + "'"));
		Map<Integer, Integer> checkouts = new TreeMap<>();
		try {
			for (int round = 0; round < 6; round++) {
				List<Connection> held = new ArrayList<>();
				for (int i = 0; i < 3; i++) {
					held.add(pool.create().block(Duration.ofSeconds(30)));
				}
				for (Connection c : held) {
					checkouts.merge(single(c, "SELECT pg_backend_pid()", Integer.class), 1, Integer::sum);
					assertThat(single(c, "SELECT current_setting('application_name')", String.class)).isEqualTo(APP);
					Mono.from(c.close()).block(Duration.ofSeconds(30));
				}
			}
		}
		finally {
			pool.close(Duration.ofSeconds(10)).block(Duration.ofSeconds(30));
		}
		assertThat(checkouts).hasSize(3);
		assertThat(checkouts.values()).containsOnly(6);
		Connection c = Mono.from(direct.create()).block(Duration.ofSeconds(30));
		try {
			List<Integer> initialized = Flux.from(c.createStatement("SELECT pid FROM " + INIT_LOG + " ORDER BY pid").execute())
					.flatMap(r -> r.map((row, md) -> row.get(0, Integer.class))).collectList().block(Duration.ofSeconds(30));
			assertThat(initialized).as("one init per backend PID").containsExactlyElementsOf(checkouts.keySet());
			assertThat(single(c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + APP + "'", Long.class))
					.as("the pool closed its backends").isZero();
		}
		finally {
			Mono.from(c.close()).block(Duration.ofSeconds(30));
		}
	}

	@Test
	void maxUsesRotatesBackends() {
		TetherPool pool = pool(PoolSettings.builder().name("basics-uses").maxSize(1).maxUses(3));
		List<Integer> pids = new ArrayList<>();
		try {
			for (int i = 0; i < 9; i++) {
				pids.add(Mono.usingWhen(pool.create(), c -> one(c, "SELECT pg_backend_pid()", Integer.class),
						Connection::close).block(Duration.ofSeconds(30)));
			}
			assertThat(pool.stats().evictions()).isEqualTo(3);
		}
		finally {
			pool.close(Duration.ofSeconds(10)).block(Duration.ofSeconds(30));
		}
		assertThat(pids.subList(0, 3)).containsOnly(pids.get(0));
		assertThat(pids.subList(3, 6)).containsOnly(pids.get(3));
		assertThat(pids.subList(6, 9)).containsOnly(pids.get(6));
		assertThat(pids.stream().distinct()).hasSize(3);
	}
}
