package io.tether.test;

import static io.tether.test.Rollback.rollbackAfter;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.tether.core.Database;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The kit over r2dbc-pool ({@code @TetherTest(pool = R2DBC_POOL)}): the same parameters, with a
 * {@link ConnectionPool} behind the recorder, and the same checks (see {@link KitFailsTest} for the failing side).
 */
@TetherTest(schema = "kit-schema.sql", poolSize = 2, rollback = true, pool = TestPool.R2DBC_POOL)
class R2dbcPoolKitTest {

	@Test
	void theDatabaseRunsOverTheRecorderOverAnR2dbcPool(Database db, RecordingConnectionFactory recorder, ConnectionPool pool) {
		assertThat(db.connectionFactory()).isSameAs(recorder);
		assertThat(recorder.unwrap()).isSameAs(pool);
		assertThat(pool.getMetrics().orElseThrow().getMaxAllocatedSize()).isEqualTo(2);
		StepVerifier.create(db.sql("select owner from account order by id").mapTo(String.class).all())
				.expectNext("alice", "bob")
				.verifyComplete();
		TetherAssertions.assertThatPool(recorder).isFullyReturned();
		TetherAssertions.assertThatPool(pool).isFullyReturned();
	}

	@Test
	void aCancelledPipelineIsRolledBackAndReleasedToTheR2dbcPool(Database db, RecordingConnectionFactory recorder) {
		StepVerifier.create(rollbackAfter(db, Flux.concat(
						db.sql("insert into account values (:id, 'carol', 10)").bind("id", 3).rowsUpdated(), Flux.never())))
				.expectNext(1L)
				.thenCancel()
				.verify();
		TetherAssertions.assertThat(recorder).isFullyReleased().hasNoOpenTransaction().hasNoCommit();
		TetherAssertions.assertThatPool(recorder).isFullyReturned();
		StepVerifier.create(db.sql("select count(*) from account").mapTo(Long.class).one()).expectNext(2L).verifyComplete();
	}
}
