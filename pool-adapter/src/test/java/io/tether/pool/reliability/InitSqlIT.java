package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.describe;
import static io.tether.pool.reliability.PoolUnderTest.errors;
import static io.tether.pool.reliability.PoolUnderTest.load;
import static io.tether.pool.reliability.PoolUnderTest.pids;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.R2dbcException;
import io.tether.pool.reliability.PoolUnderTest.Outcome;
import io.tether.pool.testing.Await;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * {@code initSql} (DBUtils {@code setsession}) runs once per physical connection, right after it is
 * created, and never again on a checkout. The init SQL sets a session variable every caller must see,
 * and inserts its own backend PID into a table: after many checkouts over several physical connections
 * (retired by {@code maxUses}) the table holds each PID that served a caller exactly once.
 */
class InitSqlIT extends ReliabilitySuite {

	private static final Duration OP_GUARD = Duration.ofSeconds(45);
	private static final String TABLE = "tether_rel_init_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

	@BeforeAll
	static void createTable() {
		pg.execute("CREATE TABLE " + TABLE + " (pid INT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
	}

	@AfterAll
	static void dropTable() {
		pg.execute("DROP TABLE IF EXISTS " + TABLE);
	}

	@Test
	void initSqlRunsOncePerPhysicalConnectionNotPerCheckout() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "initsql", b -> b.maxSize(3).maxUses(4).initSql(List.of(
				"SET tether.test_marker = 'x'",
				"INSERT INTO " + TABLE + " (pid) VALUES (pg_backend_pid())")))) {
			List<Outcome> outcomes = load(36, 3, OP_GUARD, i -> Mono.usingWhen(p.pool.create(),
					c -> PoolUnderTest.one(c, "SELECT current_setting('tether.test_marker', true)", String.class)
							.flatMap(marker -> marker.equals("x")
									? PoolUnderTest.pidOf(c)
									: Mono.error(new AssertionError("init SQL did not run on this connection: marker=" + marker))),
					c -> c.close()));

			assertThat(errors(outcomes)).as("every checkout sees the session state set by initSql: %s", describe(outcomes)).isEmpty();
			Set<Integer> served = new HashSet<>(pids(outcomes));
			assertThat(served).as("maxUses=4 over 36 checkouts retires connections").hasSizeGreaterThanOrEqualTo(9);

			Map<Integer, Long> initRuns = pg.query("SELECT pid FROM " + TABLE, r -> Objects.requireNonNull(r.get(0, Integer.class)))
					.stream().collect(Collectors.groupingBy(pid -> pid, Collectors.counting()));
			assertThat(initRuns.keySet()).as("initSql ran on exactly the connections that served callers")
					.containsExactlyInAnyOrderElementsOf(served);
			assertThat(initRuns).as("initSql runs per physical connection").allSatisfy((pid, runs) -> assertThat(runs).isEqualTo(1L));
			p.assertNothingLeaked();
		}
	}

	@Test
	void aFailingInitSqlFailsTheAcquisitionAndLeavesNoSessionBehind() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "initsql-bad",
				b -> b.maxSize(2).initSql(List.of("SET tether.test_marker = 'x'", "SELECT * FROM " + TABLE + "_missing")))) {
			List<Outcome> outcomes = load(6, 2, OP_GUARD, i -> p.pid());

			PoolUnderTest.assertNoneHung(outcomes);
			assertThat(pids(outcomes)).as("no caller gets a connection whose init SQL failed: %s", describe(outcomes)).isEmpty();
			assertThat(errors(outcomes)).allSatisfy(e -> assertThat(e).isInstanceOf(R2dbcException.class)
					.hasMessageContaining(TABLE + "_missing"));
			Await.until(() -> p.serverPids().isEmpty(), "sessions whose init SQL failed are closed: " + pg.states(p.app));
			assertThat(p.stats().allocated()).as("nothing kept: %s", p.stats()).isZero();
			p.assertNothingLeaked();
		}
	}
}
