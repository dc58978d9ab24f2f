package io.tether.test;

import static io.tether.test.TetherAssertions.assertThat;
import static io.tether.test.TetherAssertions.assertThatPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.core.Database;
import io.tether.pool.PoolSettings;
import io.tether.pool.TetherPool;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The assertions pass on good pipelines and fail, saying why and where, on bad ones. */
class TetherAssertionsTest {

	static final Duration SHORT = Duration.ofMillis(200);

	ConnectionFactory h2;
	RecordingConnectionFactory recorder;
	Database db;

	@BeforeEach
	void setUp() {
		h2 = ConnectionFactories.get("r2dbc:h2:mem:///assertions_" + UUID.randomUUID().toString().replace("-", "")
				+ "?options=DB_CLOSE_DELAY=-1");
		Database.of(h2).sql("create table t (id int primary key)").then().block();
		recorder = RecordingConnectionFactory.wrap(h2);
		db = Database.of(recorder);
	}

	Mono<Integer> select(int n) {
		return db.sql("select " + n).mapTo(Integer.class).one();
	}

	@Test
	void aScopedPipelineRunsOnOneConnection() {
		PipelineProbe probe = recorder.probe();
		StepVerifier.create(probe.mono(db.inConnection(select(1).then(select(2))))).expectNext(2).verifyComplete();

		assertThat(probe).ranOnOneConnection().acquiredExactly(1).hasNoStatementOutsideScope();
		assertThat(probe.statements()).extracting(RecordedStatement::sql).containsExactly("select 1", "select 2");
		assertThat(recorder).acquiredExactly(1).isFullyReleased().hasNoOpenTransaction().hasNoDoubleRelease()
				.ranOnOneConnection().hasNoStatementOutsideScope().committed(0).rolledBack(0);
	}

	@Test
	void anUnscopedPipelineFailsOneConnection() {
		PipelineProbe probe = recorder.probe();
		StepVerifier.create(probe.mono(select(1).then(select(2)))).expectNext(2).verifyComplete();

		AssertionError e = catchThrowableOfType(AssertionError.class, () -> assertThat(probe).ranOnOneConnection());
		assertThat(e).hasMessageContaining("Expected all statements of PipelineProbe#1 to run on one connection, but they ran on 2")
				.hasMessageContaining("connection #1 (acquired at io.tether.test.TetherAssertionsTest.anUnscopedPipelineFailsOneConnection(")
				.hasMessageContaining("Wrap the pipeline in inConnection(...) or inTransaction(...)");
		assertThat(e.getCause()).hasMessageStartingWith("create() subscribed here");

		AssertionError n = catchThrowableOfType(AssertionError.class, () -> assertThat(probe).acquiredExactly(1));
		assertThat(n).hasMessageContaining("Expected PipelineProbe#1 to acquire exactly 1 connection(s), but it acquired 2");
		// Both statements were inside the probe's Context: nothing was lost.
		assertThat(probe).hasNoStatementOutsideScope();
	}

	@Test
	void toFutureInsideAPipelineIsCaughtAsAStatementOutsideTheScope() {
		PipelineProbe probe = recorder.probe();
		Mono<Integer> lost = db.inConnection(select(1)
				.flatMap(x -> Mono.fromFuture(select(2).toFuture())));   // the Context does not cross toFuture()

		StepVerifier.create(probe.mono(lost)).expectNext(2).verifyComplete();

		AssertionError e = catchThrowableOfType(AssertionError.class, () -> assertThat(probe).hasNoStatementOutsideScope());
		assertThat(e).hasMessageStartingWith("1 connection was acquired outside a scope, while PipelineProbe#1 ran:")
				.hasMessageContaining("look for toFuture(), block() or a hand-made subscribe()");
		assertThat(probe.connectionsAcquiredOutsideScope()).extracting(RecordedConnection::id).containsExactly(2);
		assertThat(catchThrowableOfType(AssertionError.class, () -> assertThat(probe).ranOnOneConnection()))
				.hasMessageContaining("but they ran on 2");
		assertThat(catchThrowableOfType(AssertionError.class, () -> assertThat(recorder).hasNoStatementOutsideScope()))
				.hasMessageContaining("outside the pipelines handed to Rollback or a PipelineProbe");
	}

	@Test
	void aHandMadeSubscribeInsideAPipelineIsCaughtToo() {
		PipelineProbe probe = recorder.probe();
		Mono<Integer> fireAndForget = db.inTransaction(select(1)
				.doOnNext(x -> db.sql("insert into t values (1)").rowsUpdated().subscribe()));

		StepVerifier.create(probe.mono(fireAndForget)).expectNext(1).verifyComplete();
		assertThat(recorder).isFullyReleased();

		assertThat(catchThrowableOfType(AssertionError.class, () -> assertThat(probe).hasNoStatementOutsideScope()))
				.hasMessageContaining("1 connection was acquired outside a scope");
		// And it committed on its own, outside the transaction.
		assertThat(catchThrowableOfType(AssertionError.class, () -> assertThat(recorder).hasNoCommit()))
				.hasMessageContaining("auto-commit of 'insert into t values (1)' on connection #2");
	}

	@Test
	void aProbeNeverSubscribedFails() {
		PipelineProbe probe = recorder.probe();
		StepVerifier.create(select(1)).expectNext(1).verifyComplete();   // the probe's pipeline was not used
		assertThat(catchThrowableOfType(AssertionError.class, () -> assertThat(probe).ranOnOneConnection()))
				.hasMessageContaining("PipelineProbe#1 was never subscribed");
	}

	@Test
	void aConnectionHeldFailsFullyReleasedWithItsAcquisitionSite() {
		Connection held = Mono.from(recorder.create()).block();

		AssertionError e = catchThrowableOfType(AssertionError.class, () -> assertThat(recorder).isFullyReleased(SHORT));
		assertThat(e).hasMessageStartingWith("1 connection is still acquired (waited 200 ms):\n  connection #1 (acquired at "
				+ "io.tether.test.TetherAssertionsTest.aConnectionHeldFailsFullyReleasedWithItsAcquisitionSite(");
		assertThat(e.getCause().getStackTrace()).anyMatch(f -> f.getMethodName().equals("aConnectionHeldFailsFullyReleasedWithItsAcquisitionSite"));

		Mono.from(held.close()).block();
		assertThat(recorder).isFullyReleased(SHORT);
	}

	@Test
	void countsOfConnectionsCommitsAndRollbacksAreExact() {
		db.inTransaction(db.sql("insert into t values (1)").rowsUpdated()).block();
		assertThat(recorder).acquiredExactly(1).committed(1).rolledBack(0);
		assertThat(catchThrowableOfType(AssertionError.class, () -> assertThat(recorder).acquiredExactly(2)))
				.hasMessageContaining("Expected exactly 2 connection(s) to be acquired, but 1 were");
		assertThat(catchThrowableOfType(AssertionError.class, () -> assertThat(recorder).hasNoCommit()))
				.hasMessageContaining("COMMIT on connection #1");
		assertThat(catchThrowableOfType(AssertionError.class, () -> assertThat(recorder).as("after insert").committed(0)))
				.hasMessageContaining("[after insert]");
	}

	@Test
	void aTetherPoolIsFullyReturnedOnlyWhenNothingIsCheckedOut() {
		TetherPool pool = TetherPool.create(h2, PoolSettings.builder().maxSize(2).build());
		try {
			RecordingConnectionFactory overPool = RecordingConnectionFactory.wrap(pool);
			Connection held = Mono.from(overPool.create()).block();

			assertThat(catchThrowableOfType(AssertionError.class, () -> assertThatPool(pool).isFullyReturned(SHORT)))
					.hasMessageContaining("Expected the pool to be fully returned (waited 200 ms), but")
					.hasMessageContaining("acquired=1");
			assertThat(catchThrowableOfType(AssertionError.class, () -> assertThatPool(overPool).isFullyReturned(SHORT)))
					.hasMessageContaining("acquired=1");

			Mono.from(held.close()).block();
			assertThatPool(overPool).isFullyReturned();
		}
		finally {
			pool.close();
		}
	}

	@Test
	void anR2dbcPoolIsUnderstoodToo() {
		ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration.builder(h2).maxSize(2).build());
		try {
			Connection held = pool.create().block();
			assertThat(catchThrowableOfType(AssertionError.class, () -> assertThatPool(pool).isFullyReturned(SHORT)))
					.hasMessageContaining("acquired=1");
			Mono.from(held.close()).block();
			assertThatPool(pool).isFullyReturned();
		}
		finally {
			pool.dispose();
		}
	}

	@Test
	void aFactoryThatIsNoPoolIsRejected() {
		assertThatIllegalArgumentException().isThrownBy(() -> assertThatPool(recorder))
				.withMessageStartingWith("Not a pool and wraps none");
	}
}
