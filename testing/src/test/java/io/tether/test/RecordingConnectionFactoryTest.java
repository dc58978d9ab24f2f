package io.tether.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.Propagation;
import io.tether.context.TransactionOptions;
import io.tether.core.Database;
import io.tether.test.RecordedEvent.Kind;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class RecordingConnectionFactoryTest {

	ConnectionFactory h2;
	RecordingConnectionFactory recorder;
	Database db;

	@BeforeEach
	void setUp() {
		h2 = ConnectionFactories.get("r2dbc:h2:mem:///recorder_" + UUID.randomUUID().toString().replace("-", "")
				+ "?options=DB_CLOSE_DELAY=-1");
		Database.of(h2).sql("create table item (id int primary key, name varchar(20))").then().block();
		recorder = RecordingConnectionFactory.wrap(h2);
		db = Database.of(recorder);
	}

	@Test
	void aTransactionIsOneConnectionWithItsStatementsBeginAndCommit() {
		StepVerifier.create(db.inTransaction(db.sql("insert into item values (1, 'a')").rowsUpdated()
						.then(db.sql("select count(*) from item").mapTo(Long.class).one())))
				.expectNext(1L)
				.verifyComplete();

		assertThat(recorder.acquisitions()).isEqualTo(1);
		assertThat(recorder.releases()).isEqualTo(1);
		assertThat(recorder.acquiredConnections()).isEmpty();
		assertThat(recorder.statements()).containsExactly(
				new RecordedStatement(1, "insert into item values (1, 'a')", true),
				new RecordedStatement(1, "select count(*) from item", true));
		assertThat(recorder.transactionsBegun()).isEqualTo(1);
		assertThat(recorder.commits()).isEqualTo(1);
		assertThat(recorder.rollbacks()).isZero();
		assertThat(recorder.events()).extracting(RecordedEvent::kind)
				.containsExactly(Kind.ACQUIRE, Kind.BEGIN, Kind.STATEMENT, Kind.STATEMENT, Kind.COMMIT, Kind.RELEASE);
		assertThat(recorder.connectionsWithOpenTransaction()).isEmpty();
	}

	@Test
	void statementsOutsideAnyScopeTakeAConnectionEachAndAutoCommit() {
		StepVerifier.create(db.sql("insert into item values (1, 'a')").rowsUpdated()
						.then(db.sql("select count(*) from item").mapTo(Long.class).one()))
				.expectNext(1L)
				.verifyComplete();

		assertThat(recorder.acquisitions()).isEqualTo(2);
		assertThat(recorder.releases()).isEqualTo(2);
		assertThat(recorder.statements()).extracting(RecordedStatement::connectionId).containsExactly(1, 2);
		assertThat(recorder.statements()).extracting(RecordedStatement::inTransaction).containsExactly(false, false);
		assertThat(recorder.transactionsBegun()).isZero();
	}

	@Test
	void anErrorRollsBackAndASavepointIsRecorded() {
		TransactionOptions nested = TransactionOptions.builder().propagation(Propagation.NESTED).build();
		Mono<Long> body = db.sql("insert into item values (1, 'a')").rowsUpdated()
				.then(db.inTransaction(nested, db.sql("select 1").mapTo(Long.class).one()))
				.then(Mono.error(new IllegalStateException("boom")));

		StepVerifier.create(db.inTransaction(body)).verifyErrorMessage("boom");

		assertThat(recorder.commits()).isZero();
		assertThat(recorder.rollbacks()).isEqualTo(1);
		assertThat(recorder.events()).extracting(RecordedEvent::kind).contains(Kind.SAVEPOINT, Kind.RELEASE_SAVEPOINT);
		assertThat(recorder.acquiredConnections()).isEmpty();
		StepVerifier.create(db.sql("select count(*) from item").mapTo(Long.class).one()).expectNext(0L).verifyComplete();
	}

	@Test
	void aSecondCloseIsCountedAsADoubleReleaseAndNotPassedOn() {
		Connection c = Mono.from(recorder.create()).block();
		Mono.from(c.close()).block();
		Mono.from(c.close()).block();

		assertThat(recorder.releases()).isEqualTo(1);
		assertThat(recorder.doubleReleases()).isEqualTo(1);
		assertThat(recorder.events()).extracting(RecordedEvent::kind)
				.containsExactly(Kind.ACQUIRE, Kind.RELEASE, Kind.DOUBLE_RELEASE);
	}

	@Test
	void theAcquisitionSiteNamesTheCodeThatSubscribed() {
		Connection c = Mono.from(recorder.create()).block();
		try {
			RecordedConnection rc = recorder.connection(1);
			assertThat(rc.isReleased()).isFalse();
			assertThat(rc.acquisitionSite()).isPresent();
			assertThat(rc.describe()).startsWith("connection #1 (acquired at io.tether.test.RecordingConnectionFactoryTest"
					+ ".theAcquisitionSiteNamesTheCodeThatSubscribed(RecordingConnectionFactoryTest.java:");
			assertThat(recorder.acquiredConnections()).containsExactly(rc);
		}
		finally {
			Mono.from(c.close()).block();
		}
		assertThat(recorder.connection(1).isReleased()).isTrue();
	}

	@Test
	void sitesCanBeLeftUncaptured() {
		RecordingConnectionFactory cheap = RecordingConnectionFactory.wrap(h2, false);
		Connection c = Mono.from(cheap.create()).block();
		assertThat(cheap.connection(1).acquisitionSite()).isEmpty();
		assertThat(cheap.connection(1).describe()).contains("acquisition stacks not captured");
		Mono.from(c.close()).block();
	}

	@Test
	void aHandBegunTransactionIsOpenUntilItEnds() {
		Connection c = Mono.from(recorder.create()).block();
		Mono.from(c.beginTransaction()).block();
		Flux.from(c.createStatement("insert into item values (7, 'x')").execute()).flatMap(r -> r.getRowsUpdated()).blockLast();
		assertThat(recorder.connectionsWithOpenTransaction()).extracting(RecordedConnection::id).containsExactly(1);
		assertThat(recorder.statements()).containsExactly(new RecordedStatement(1, "insert into item values (7, 'x')", true));

		Mono.from(c.rollbackTransaction()).block();
		assertThat(recorder.connectionsWithOpenTransaction()).isEmpty();
		Mono.from(c.close()).block();
	}

	@Test
	void batchesRecordEachStatement() {
		StepVerifier.create(db.withConnectionMany(c -> Flux.from(c.createBatch()
								.add("insert into item values (1, 'a')")
								.add("insert into item values (2, 'b')")
								.execute())
						.flatMap(r -> r.getRowsUpdated())))
				.expectNext(1L, 1L)
				.verifyComplete();
		assertThat(recorder.statements()).extracting(RecordedStatement::sql)
				.containsExactly("insert into item values (1, 'a')", "insert into item values (2, 'b')");
	}

	@Test
	void resetForgetsEverything() {
		db.sql("select 1").mapTo(Integer.class).one().block();
		recorder.reset();
		assertThat(recorder.acquisitions()).isZero();
		assertThat(recorder.releases()).isZero();
		assertThat(recorder.statements()).isEmpty();
		assertThat(recorder.events()).isEmpty();

		db.sql("select 1").mapTo(Integer.class).one().block();
		assertThat(recorder.connections()).extracting(RecordedConnection::id).containsExactly(1);
	}

	@Test
	void itIsAWrapperThatKeepsTheDriverMetadata() {
		assertThat(recorder.unwrap()).isSameAs(h2);
		assertThat(recorder.getMetadata().getName()).isEqualTo(h2.getMetadata().getName());
	}
}
