package io.tether.test;

import static io.tether.test.Rollback.rollbackAfter;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.ConnectionFactories;
import io.tether.core.Database;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The kit over r2dbc-pool on PostgreSQL: the checks pass on good pipelines and fail a leak. */
@TetherTest(database = TestDatabase.POSTGRES, schema = "kit-schema-pg-r2dbc-pool.sql", rollback = true,
		pool = TestPool.R2DBC_POOL)
class PostgresR2dbcPoolKitIT {

	@AfterAll
	static void dropTheTable() {
		Database.of(ConnectionFactories.get(TestDatabase.postgresUrl())).sql("drop table if exists tether_kit_r2p_account")
				.then().block(Duration.ofSeconds(30));
	}

	@Test
	void aCancelledTransactionIsRolledBackAndReleasedToTheR2dbcPool(Database db, RecordingConnectionFactory recorder,
			ConnectionPool pool) {
		assertThat(recorder.unwrap()).isSameAs(pool);
		StepVerifier.create(rollbackAfter(db, Flux.concat(
						db.sql("insert into tether_kit_r2p_account values (:id, 'carol', 10)").bind("id", 3).rowsUpdated(),
						Flux.never())))
				.expectNext(1L)
				.thenCancel()
				.verify();
		TetherAssertions.assertThat(recorder).isFullyReleased().hasNoOpenTransaction().hasNoCommit();
		TetherAssertions.assertThatPool(pool).isFullyReturned();
		StepVerifier.create(db.sql("select count(*) from tether_kit_r2p_account").mapTo(Long.class).one())
				.expectNext(2L)
				.verifyComplete();
	}

	@Test
	void theKitFailsALeakOnR2dbcPool() {
		Map<String, Throwable> outcomes = KitFailsTest.run(LeaksOnPostgres.class);

		assertThat(outcomes.get("leaks")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("1 connection is still acquired after the test")
				.hasMessageContaining("io.tether.test.PostgresR2dbcPoolKitIT$LeaksOnPostgres.leaks(PostgresR2dbcPoolKitIT.java:");
		assertThat(outcomes.get("theNextTestGetsTheOnlyConnection")).isNull();
		assertThat(outcomes).hasSize(2);
	}

	@TetherTest(database = TestDatabase.POSTGRES, poolSize = 1, releaseWaitMillis = 300, pool = TestPool.R2DBC_POOL)
	@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
	static class LeaksOnPostgres {

		@Test
		@org.junit.jupiter.api.Order(1)
		void leaks(Database db) {
			db.inTransaction(db.sql("select 1").then().then(Mono.never())).subscribe();
		}

		@Test
		@org.junit.jupiter.api.Order(2)
		void theNextTestGetsTheOnlyConnection(Database db) {
			StepVerifier.create(db.sql("select 41 + 1").mapTo(Integer.class).one()).expectNext(42).verifyComplete();
		}
	}
}
