package io.tether.examples;

import static io.tether.test.TetherAssertions.assertThat;

import io.tether.core.Database;
import io.tether.test.PipelineProbe;
import io.tether.test.RecordingConnectionFactory;
import io.tether.test.Rollback;
import io.tether.test.TetherTest;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * What the README's API tour says about connections, checked with Tether's own test kit (tether-test): the
 * tour's pipelines, run in rolled-back transactions and watched by probes.
 */
@TetherTest(schema = "tour-schema.sql", rollback = true, strict = true)
class TourClaimsTest {

	@Test
	void aTransactionRunsBothStatementsOnOneConnection(Database db, Rollback rollback, RecordingConnectionFactory recorder) {
		long alice = 1;
		PipelineProbe probe = recorder.probe();
		Mono<Long> transfer = db.inTransaction(
				db.sql("update items set owner_id = :to where owner_id = :from")
						.bind("from", alice + 1).bind("to", alice)
						.rowsUpdated()
						.flatMap(moved -> db.sql("update users set active = :active where id = :id")
								.bind("active", true).bind("id", alice)
								.rowsUpdated()
								.thenReturn(moved)));

		StepVerifier.create(probe.mono(rollback.run(transfer))).expectNext(2L).verifyComplete();

		assertThat(probe).ranOnOneConnection().acquiredExactly(1).hasNoStatementOutsideScope();
		assertThat(recorder).committed(0).rolledBack(1);
	}

	@Test
	void aScopeSharesOneConnectionEvenWithFlatMap(Database db, RecordingConnectionFactory recorder) {
		PipelineProbe probe = recorder.probe();
		Mono<List<String>> report = db.inConnection(
				db.sql("select email from users order by id").mapTo(String.class).all()
						.flatMap(email -> db.sql("select count(*) from items i join users u on u.id = i.owner_id"
										+ " where u.email = :email")
								.bind("email", email).mapTo(Long.class).one()
								.map(n -> email + ": " + n + " items"))
						.collectList());

		StepVerifier.create(probe.mono(report))
				.expectNext(List.of("alice@example.com: 0 items", "bob@example.com: 2 items"))
				.verifyComplete();

		assertThat(probe).ranOnOneConnection().acquiredExactly(1).hasNoStatementOutsideScope();
	}

	@Test
	void outsideAnyScopeEachStatementTakesAndReleasesItsOwnConnection(Database db, RecordingConnectionFactory recorder) {
		PipelineProbe probe = recorder.probe();
		Mono<Long> twoStatements = db.sql("select count(*) from users").mapTo(Long.class).one()
				.then(db.sql("select count(*) from items").mapTo(Long.class).one());

		StepVerifier.create(probe.mono(twoStatements)).expectNext(2L).verifyComplete();

		assertThat(probe).acquiredExactly(2).hasNoStatementOutsideScope();
		assertThat(recorder).isFullyReleased();
	}
}
