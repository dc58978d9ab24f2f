package io.tether.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.tether.context.Propagation;
import io.tether.context.TransactionOptions;
import io.tether.core.Database;
import io.tether.pool.TetherPool;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * A kit that cannot fail is worthless: this runs deliberately bad test classes (the nested classes below, which
 * Maven does not run by themselves) through the JUnit Platform and checks that the kit fails exactly the bad
 * tests, with a message that says what and where.
 */
class KitFailsTest {

	@Test
	void aTestThatLeaksAConnectionFailsWithWhereItWasAcquired_andTheNextTestStartsClean() {
		Map<String, Throwable> outcomes = run(LeaksAConnection.class);

		assertThat(outcomes).containsOnlyKeys("leaks", "theNextTestGetsTheOnlyConnection");
		Throwable leak = outcomes.get("leaks");
		assertThat(leak).isInstanceOf(AssertionError.class)
				.hasMessageStartingWith("@TetherTest: leaks(Database) left problems behind:\n- 1 connection is still acquired after "
						+ "the test (waited 300 ms for releases in the background):\n    connection #1 (acquired at "
						+ "io.tether.test.KitFailsTest$LeaksAConnection.leaks(KitFailsTest.java:");
		assertThat(leak.getCause()).hasMessageStartingWith("create() subscribed here");
		assertThat(outcomes.get("theNextTestGetsTheOnlyConnection")).isNull();
	}

	@Test
	void aTestThatCommitsOutsideTheRollbackScopeFails() {
		Map<String, Throwable> outcomes = run(CommitsOutsideRollback.class);

		assertThat(outcomes.get("commitsInATransaction")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("committed outside the rollback scope:\n    COMMIT on connection #1 (acquired at "
						+ "io.tether.test.KitFailsTest$CommitsOutsideRollback.commitsInATransaction(KitFailsTest.java:")
				.hasMessageContaining("Run every pipeline that writes through Rollback");
		assertThat(outcomes.get("autoCommitsAnInsert")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("committed outside the rollback scope:\n    auto-commit of 'delete from account where id = 3' "
						+ "on connection #1 (acquired at io.tether.test.KitFailsTest$CommitsOutsideRollback.autoCommitsAnInsert(")
				.hasMessageContaining("\n    auto-commit of 'insert into account values ($1, 'carol', 10)' on connection #2");
		assertThat(outcomes.get("requiresNewEscapesTheRollback")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("COMMIT on connection #2");
		assertThat(outcomes.get("writesThroughRollback")).isNull();
		assertThat(outcomes.get("readsOutsideRollback")).isNull();
		assertThat(outcomes).hasSize(5);
	}

	@Test
	void aTestThatLeavesATransactionOpenOrReleasesTwiceFails() {
		Map<String, Throwable> outcomes = run(MisusesRawConnections.class);

		assertThat(outcomes.get("leavesATransactionOpen")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("1 connection is still acquired")
				.hasMessageContaining("a transaction is still open after the test on\n    connection #1 (acquired at "
						+ "io.tether.test.KitFailsTest$MisusesRawConnections.leavesATransactionOpen(KitFailsTest.java:");
		assertThat(outcomes.get("releasesTwice")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("1 close() call(s) on connections already released");
		assertThat(outcomes).hasSize(2);
	}

	@Test
	void aTestThatTakesAConnectionFromThePoolDirectlyAndKeepsItFails() {
		Map<String, Throwable> outcomes = run(BypassesTheRecorder.class);

		assertThat(outcomes.get("keepsAPoolConnection")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("the pool is not fully returned after the test: max=4, acquired=1");
		assertThat(outcomes).hasSize(1);
	}

	@Test
	void onR2dbcPoolATestThatLeaksAConnectionFailsWithWhereItWasAcquired_andTheNextTestStartsClean() {
		Map<String, Throwable> outcomes = run(LeaksAConnectionOnR2dbcPool.class);

		assertThat(outcomes).containsOnlyKeys("leaks", "theNextTestGetsTheOnlyConnection");
		assertThat(outcomes.get("leaks")).isInstanceOf(AssertionError.class)
				.hasMessageStartingWith("@TetherTest: leaks(Database) left problems behind:\n- 1 connection is still acquired after "
						+ "the test (waited 300 ms for releases in the background):\n    connection #1 (acquired at "
						+ "io.tether.test.KitFailsTest$LeaksAConnection.leaks(KitFailsTest.java:");
		assertThat(outcomes.get("theNextTestGetsTheOnlyConnection")).isNull();
	}

	@Test
	void onR2dbcPoolATestThatTakesAConnectionFromThePoolDirectlyAndKeepsItFails() {
		Map<String, Throwable> outcomes = run(BypassesTheRecorderOnR2dbcPool.class);
		assertThat(outcomes.get("keepsAPoolConnection")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("the pool is not fully returned after the test: max=4, acquired=1, idle=0, pending=0 "
						+ "(connections taken from the ConnectionPool parameter directly must be closed)");
		assertThat(outcomes.get("asksForATetherPool")).isInstanceOf(ParameterResolutionException.class)
				.hasMessageContaining("@TetherTest(pool = R2DBC_POOL) provides io.r2dbc.pool.ConnectionPool, not io.tether.pool.TetherPool");
		assertThat(outcomes).hasSize(2);
	}

	@Test
	void strictModeFailsATestWhosePipelineLostItsContext() {
		Map<String, Throwable> outcomes = run(LosesTheContext.class);

		assertThat(outcomes.get("toFutureInsideThePipeline")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("1 connection was acquired outside a scope, outside the pipelines handed to Rollback "
						+ "or a PipelineProbe (@TetherTest(strict = true)):\n    connection #2");
		assertThat(outcomes.get("anUnwrappedPipeline")).isInstanceOf(AssertionError.class)
				.hasMessageContaining("connection #1 (acquired at io.tether.test.KitFailsTest$LosesTheContext.anUnwrappedPipeline(");
		assertThat(outcomes.get("composedPipeline")).isNull();
		assertThat(outcomes).hasSize(3);
	}

	@Test
	void aFailingTestKeepsItsOwnFailureAndGetsTheLeakAsSuppressed() {
		Map<String, Throwable> outcomes = run(FailsAndLeaks.class);

		Throwable failure = outcomes.get("failsAndLeaks");
		assertThat(failure).isInstanceOf(AssertionError.class).hasMessageContaining("expectation \"expectNext(42)\" failed");
		assertThat(failure.getSuppressed()).singleElement().satisfies(s ->
				assertThat(s).hasMessageContaining("1 connection is still acquired"));
	}

	/** Runs {@code testClass} on the Jupiter engine: method name of each test to its failure, or to null. */
	static Map<String, Throwable> run(Class<?> testClass) {
		EngineExecutionResults results = EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute();
		assertThat(results.containerEvents().failed().count()).as("failed containers of %s", testClass.getSimpleName()).isZero();
		Map<String, Throwable> outcomes = new HashMap<>();
		for (Event e : results.testEvents().finished().list()) {
			String name = e.getTestDescriptor().getDisplayName();
			outcomes.put(name.substring(0, name.indexOf('(')),
					e.getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable).orElse(null));
		}
		return outcomes;
	}

	// ---------------------------------------------------------------- deliberately bad test classes

	@TetherTest(schema = "kit-schema.sql", poolSize = 1, releaseWaitMillis = 300)
	@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
	static class LeaksAConnection {

		@Test
		@Order(1)
		void leaks(Database db) {
			db.inConnection(Mono.never()).subscribe();   // never completes, never disposed
		}

		@Test
		@Order(2)
		void theNextTestGetsTheOnlyConnection(Database db) {
			// poolSize = 1: this would wait for the acquire timeout if the kit had not given the leaked connection back.
			StepVerifier.create(db.sql("select count(*) from account").mapTo(Long.class).one()).expectNext(2L).verifyComplete();
		}
	}

	@TetherTest(schema = "kit-schema.sql", poolSize = 1, releaseWaitMillis = 300, pool = TestPool.R2DBC_POOL)
	static class LeaksAConnectionOnR2dbcPool extends LeaksAConnection {
	}

	@TetherTest(schema = "kit-schema.sql", rollback = true)
	static class CommitsOutsideRollback {

		Mono<Long> insertCarol(Database db) {
			return db.sql("insert into account values (:id, 'carol', 10)").bind("id", 3).rowsUpdated();
		}

		@Test
		void commitsInATransaction(Database db) {
			StepVerifier.create(db.inTransaction(insertCarol(db))).expectNext(1L).verifyComplete();
		}

		@Test
		void autoCommitsAnInsert(Database db) {
			StepVerifier.create(db.sql("delete from account where id = 3").rowsUpdated().then(Mono.empty()))
					.verifyComplete();
			// The delete ran in auto-commit too, and may change data: it is reported with the insert.
			StepVerifier.create(insertCarol(db)).expectNext(1L).verifyComplete();
		}

		@Test
		void requiresNewEscapesTheRollback(Database db, Rollback rollback) {
			TransactionOptions requiresNew = TransactionOptions.builder().propagation(Propagation.REQUIRES_NEW).build();
			StepVerifier.create(rollback.run(db.sql("select count(*) from account").mapTo(Long.class).one()
							.then(db.inTransaction(requiresNew, db.sql("delete from account where id = 3").rowsUpdated()))))
					.expectNextCount(1)
					.verifyComplete();
		}

		@Test
		void writesThroughRollback(Database db, Rollback rollback) {
			StepVerifier.create(rollback.run(db.sql("delete from account").rowsUpdated())).expectNextCount(1).verifyComplete();
		}

		@Test
		void readsOutsideRollback(Database db) {
			StepVerifier.create(db.sql("select owner from account where id = 1").mapTo(String.class).one())
					.expectNext("alice")
					.verifyComplete();
		}
	}

	@TetherTest(releaseWaitMillis = 300)
	static class MisusesRawConnections {

		@Test
		void leavesATransactionOpen(Database db) {
			Connection c = Mono.from(db.connectionFactory().create()).block();
			Mono.from(c.beginTransaction()).block();
		}

		@Test
		void releasesTwice(Database db) {
			Connection c = Mono.from(db.connectionFactory().create()).block();
			Mono.from(c.close()).block();
			Mono.from(c.close()).block();
		}
	}

	@TetherTest(releaseWaitMillis = 300)
	static class BypassesTheRecorder {

		@Test
		void keepsAPoolConnection(TetherPool pool) {
			pool.create().block();
		}
	}

	@TetherTest(releaseWaitMillis = 300, pool = TestPool.R2DBC_POOL)
	static class BypassesTheRecorderOnR2dbcPool {

		@Test
		void keepsAPoolConnection(ConnectionPool pool) {
			pool.create().block();
		}

		@Test
		void asksForATetherPool(TetherPool pool) {
		}
	}

	@TetherTest(schema = "kit-schema.sql", strict = true)
	static class LosesTheContext {

		@Test
		void toFutureInsideThePipeline(Database db, Rollback rollback) {
			Mono<Long> lost = db.sql("select count(*) from account").mapTo(Long.class).one()
					.flatMap(n -> Mono.fromFuture(db.sql("select count(*) from account").mapTo(Long.class).one().toFuture()));
			StepVerifier.create(rollback.run(lost)).expectNext(2L).verifyComplete();
		}

		@Test
		void anUnwrappedPipeline(Database db) {
			StepVerifier.create(db.sql("select count(*) from account").mapTo(Long.class).one()).expectNext(2L).verifyComplete();
		}

		@Test
		void composedPipeline(Database db, RecordingConnectionFactory recorder) {
			PipelineProbe probe = recorder.probe();
			Flux<Long> composed = db.sql("select id from account order by id").mapTo(Long.class).all()
					.concatMap(id -> db.sql("select balance from account where id = :id").bind("id", id).mapTo(Long.class).one());
			StepVerifier.create(probe.flux(db.inConnection(composed))).expectNext(100L, 50L).verifyComplete();
		}
	}

	@TetherTest(releaseWaitMillis = 300)
	static class FailsAndLeaks {

		@Test
		void failsAndLeaks(Database db) {
			db.inConnection(Mono.never()).subscribe();
			StepVerifier.create(Mono.just(1)).expectNext(42).verifyComplete();
		}
	}
}
