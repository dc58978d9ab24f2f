package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.run;
import static io.tether.pool.reliability.PoolUnderTest.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.tether.pool.ValidationMode;
import io.tether.pool.testing.Await;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * What the pool does when a borrower returns a connection in a state the next one must not inherit: a
 * transaction left open or auto-commit switched off is rolled back and auto-commit restored before the
 * connection is reused; if that cleanup fails (the session died meanwhile) the connection is destroyed.
 * The server is the judge: no session idle in a transaction, the uncommitted row never visible.
 */
class ReleaseCleanupIT extends ReliabilitySuite {

	private static final Duration OP_GUARD = Duration.ofSeconds(45);
	private static final String TABLE = "tether_rel_cleanup_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

	@BeforeAll
	static void createTable() {
		pg.execute("CREATE TABLE " + TABLE + " (id INT NOT NULL)");
	}

	@AfterAll
	static void dropTable() {
		pg.execute("DROP TABLE IF EXISTS " + TABLE);
	}

	@BeforeEach
	void emptyTable() {
		pg.execute("DELETE FROM " + TABLE);
	}

	@Test
	void aTransactionLeftOpenIsRolledBackBeforeTheConnectionIsReused() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "cleanup-tx", b -> b.maxSize(1).validation(ValidationMode.NEVER))) {
			Connection c = within(Mono.from(p.pool.create()), OP_GUARD);
			int pid = within(Mono.from(c.beginTransaction()).then(run(c, "INSERT INTO " + TABLE + " VALUES (1)"))
					.then(PoolUnderTest.pidOf(c)), OP_GUARD);
			assertThat(pg.states(p.app)).containsEntry(pid, "idle in transaction");
			PoolUnderTest.complete(Mono.from(c.close()), OP_GUARD);

			Await.until(() -> p.pg.idleInTransaction(p.app) == 0, "the open transaction ended on release: " + pg.states(p.app));
			assertNextBorrowerStartsClean(p, pid);
		}
	}

	@Test
	void autoCommitSwitchedOffIsRolledBackAndRestored() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "cleanup-ac", b -> b.maxSize(1).validation(ValidationMode.NEVER))) {
			Connection c = within(Mono.from(p.pool.create()), OP_GUARD);
			int pid = within(Mono.from(c.setAutoCommit(false)).then(run(c, "INSERT INTO " + TABLE + " VALUES (2)"))
					.then(PoolUnderTest.pidOf(c)), OP_GUARD);
			assertThat(c.isAutoCommit()).isFalse();
			PoolUnderTest.complete(Mono.from(c.close()), OP_GUARD);

			assertNextBorrowerStartsClean(p, pid);
		}
	}

	@Test
	void aConnectionWhoseCleanupFailsIsDestroyedNotReused() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "cleanup-fail", b -> b.maxSize(1).validation(ValidationMode.NEVER))) {
			Connection c = within(Mono.from(p.pool.create()), OP_GUARD);
			int pid = within(Mono.from(c.beginTransaction()).then(run(c, "INSERT INTO " + TABLE + " VALUES (3)"))
					.then(PoolUnderTest.pidOf(c)), OP_GUARD);
			assertThat(pg.terminate(java.util.List.of(pid))).isEqualTo(1);
			// The release must not fail the borrower nor hang, although its ROLLBACK cannot reach the server.
			PoolUnderTest.complete(Mono.from(c.close()), OP_GUARD);

			int next = within(p.pid(), OP_GUARD);
			assertThat(next).as("validation is NEVER: only invalidation on failed cleanup can explain a fresh session")
					.isNotEqualTo(pid);
			assertThat(rows()).isZero();
			p.assertNothingLeaked();
		}
	}

	private void assertNextBorrowerStartsClean(PoolUnderTest p, int previousPid) {
		Connection next = within(Mono.from(p.pool.create()), OP_GUARD);
		try {
			assertThat(next.isAutoCommit()).as("auto-commit restored").isTrue();
			int pid = within(PoolUnderTest.pidOf(next), OP_GUARD);
			assertThat(pid).as("a clean-up that succeeds keeps the connection").isEqualTo(previousPid);
			within(run(next, "INSERT INTO " + TABLE + " VALUES (10)").thenReturn(true), OP_GUARD);
		}
		finally {
			PoolUnderTest.complete(Mono.from(next.close()), OP_GUARD);
		}
		assertThat(pg.query("SELECT id FROM " + TABLE + " ORDER BY id", r -> Objects.requireNonNull(r.get(0, Integer.class))))
				.as("the abandoned insert was rolled back, the next borrower's insert auto-committed")
				.containsExactly(10);
		p.assertNothingLeaked();
	}

	private static long rows() {
		return pg.query("SELECT count(*) FROM " + TABLE, r -> Objects.requireNonNull(r.get(0, Long.class))).get(0);
	}
}
