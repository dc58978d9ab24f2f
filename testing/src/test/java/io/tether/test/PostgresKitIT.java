package io.tether.test;

import static io.tether.test.Rollback.rollbackAfter;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.core.Database;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** The kit on PostgreSQL: rollback, virtual time, probes, and failing the bad tests. */
@TetherTest(database = TestDatabase.POSTGRES, schema = "kit-schema-pg.sql", rollback = true, strict = true)
class PostgresKitIT {

	/** The schemas create these in the shared database; nothing of them may stay after the class. */
	@AfterAll
	static void dropWhatTheSchemasCreated() {
		try (Database admin = Database.connect(TestDatabase.postgresUrl())) {
			admin.sql("drop function if exists tether_kit_it_total()").then()
					.then(admin.sql("drop table if exists tether_kit_it_account").then())
					.then(admin.sql("drop table if exists tether_kit_it_bad").then())
					.block(Duration.ofSeconds(30));
		}
	}

	Database db;
	Rollback rollback;
	RecordingConnectionFactory recorder;

	Mono<Long> insertCarol() {
		return db.sql("insert into tether_kit_it_account values (:id, :owner, :balance)")
				.bind("id", 3).bind("owner", "carol").bind("balance", 10)
				.rowsUpdated();
	}

	Mono<Long> total() {
		// The function from the schema script: its dollar-quoted body survived the split.
		return db.sql("select tether_kit_it_total()").mapTo(Long.class).one();
	}

	@AfterEach
	void nothingWasLeftBehind() {
		StepVerifier.create(Database.of(recorder.unwrap()).sql("select count(*) from tether_kit_it_account").mapTo(Long.class).one())
				.expectNext(2L)
				.verifyComplete();
	}

	@Test
	void aPipelineSeesItsWritesAndLeavesNothing() {
		StepVerifier.create(rollbackAfter(db, insertCarol().then(total())))
				.expectNext(160L)
				.verifyComplete();
		TetherAssertions.assertThat(recorder).acquiredExactly(1).committed(0).rolledBack(1).isFullyReleased();
	}

	@Test
	void statementsJoinAcrossThreadsOnOneConnection() {
		PipelineProbe probe = recorder.probe();
		Flux<String> owners = insertCarol()
				.publishOn(Schedulers.boundedElastic())
				.thenMany(db.sql("select owner from tether_kit_it_account order by id").mapTo(String.class).all())
				.publishOn(Schedulers.parallel())
				.concatMap(owner -> db.sql("select upper(:o)").bind("o", owner).mapTo(String.class).one());

		StepVerifier.create(probe.flux(rollback.run(owners)))
				.expectNext("ALICE", "BOB", "CAROL")
				.verifyComplete();

		TetherAssertions.assertThat(probe).ranOnOneConnection().acquiredExactly(1).hasNoStatementOutsideScope();
	}

	@Test
	void virtualTimeWithRealInputOutput() {
		StepVerifier.withVirtualTime(() -> rollback.run(insertCarol().then(Mono.delay(Duration.ofDays(1))).then(total())))
				.expectSubscription()
				.thenAwait(Duration.ofDays(1))
				.expectNext(160L)
				.verifyComplete();
	}

	@Test
	void aCancelledPipelineIsRolledBackAndReleased() {
		StepVerifier.create(rollbackAfter(db, Flux.concat(insertCarol(), Flux.never())))
				.expectNext(1L)
				.thenCancel()
				.verify();
		TetherAssertions.assertThat(recorder).isFullyReleased().hasNoOpenTransaction().hasNoCommit();
		TetherAssertions.assertThatPool(recorder).isFullyReturned();
	}

	@Test
	void theKitFailsALeakAndACommitOnPostgres() {
		Map<String, Throwable> outcomes = KitFailsTest.run(BadOnPostgres.class);

		assertThat(outcomes.get("leaks")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("1 connection is still acquired after the test")
				.hasMessageContaining("io.tether.test.PostgresKitIT$BadOnPostgres.leaks(PostgresKitIT.java:");
		assertThat(outcomes.get("commits")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("committed outside the rollback scope:\n    COMMIT on connection #1");
		assertThat(outcomes.get("autoCommits")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("auto-commit of 'insert into tether_kit_it_bad values (4)' on connection #1");
		assertThat(outcomes.get("rollsBack")).isNull();
		assertThat(outcomes.get("reads")).isNull();
		assertThat(outcomes).hasSize(5);
	}

	@TetherTest(database = TestDatabase.POSTGRES, schema = "kit-schema-pg-bad.sql", rollback = true, releaseWaitMillis = 300)
	static class BadOnPostgres {

		@Test
		void leaks(Database db) {
			db.inTransaction(db.sql("insert into tether_kit_it_bad values (1)").rowsUpdated().then(Mono.never())).subscribe();
		}

		@Test
		void commits(Database db) {
			StepVerifier.create(db.inTransaction(db.sql("insert into tether_kit_it_bad values (2)").rowsUpdated()))
					.expectNext(1L)
					.verifyComplete();
		}

		@Test
		void autoCommits(Database db) {
			StepVerifier.create(db.sql("insert into tether_kit_it_bad values (4)").rowsUpdated()).expectNext(1L).verifyComplete();
		}

		@Test
		void reads(Database db) {
			StepVerifier.create(db.sql("select count(*) from tether_kit_it_bad").mapTo(Long.class).one())
					.expectNextCount(1)
					.verifyComplete();
		}

		@Test
		void rollsBack(Database db, Rollback rollback) {
			StepVerifier.create(rollback.run(db.sql("insert into tether_kit_it_bad values (3)").rowsUpdated()))
					.expectNext(1L)
					.verifyComplete();
		}
	}
}
