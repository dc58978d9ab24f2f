package io.tether.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static io.tether.test.Rollback.rollbackAfter;

import io.tether.core.Database;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** Rollback on H2, run by the kit itself in its strictest setting: rollback and strict. */
@TetherTest(schema = "kit-schema.sql", rollback = true, strict = true)
class RollbackTest {

	// Injected by the extension: fields of these types left null.
	Database db;
	Rollback rollback;
	RecordingConnectionFactory recorder;

	Mono<Long> insertCarol() {
		return db.sql("insert into account values (:id, :owner, :balance)")
				.bind("id", 3).bind("owner", "carol").bind("balance", 10)
				.rowsUpdated();
	}

	Mono<Long> count() {
		return db.sql("select count(*) from account").mapTo(Long.class).one();
	}

	@AfterEach
	void nothingWasLeftBehind() {
		// Read through the pool behind the recorder, outside any kit pipeline, so strict mode does not object.
		StepVerifier.create(Database.of(recorder.unwrap()).sql("select count(*) from account").mapTo(Long.class).one())
				.expectNext(2L)
				.verifyComplete();
	}

	@Test
	void aMonoSeesItsOwnWritesAndIsRolledBackBeforeItsValue() {
		StepVerifier.create(rollbackAfter(db, insertCarol().then(count())))
				.expectNext(3L)
				.verifyComplete();

		assertThat(recorder.transactionsBegun()).isEqualTo(1);
		assertThat(recorder.rollbacks()).isEqualTo(1);
		assertThat(recorder.commits()).isZero();
		// The value came after the release: nothing is left to wait for.
		assertThat(recorder.acquiredConnections()).isEmpty();
	}

	@Test
	void aFluxDeliversItsItemsAndIsRolledBack() {
		Flux<String> owners = db.sql("update account set owner = upper(owner)").rowsUpdated()
				.thenMany(db.sql("select owner from account order by id").mapTo(String.class).all());

		StepVerifier.create(rollbackAfter(db, owners))
				.expectNext("ALICE", "BOB")
				.verifyComplete();

		StepVerifier.create(rollback.run(db.sql("select owner from account order by id").mapTo(String.class).all()))
				.expectNext("alice", "bob")
				.verifyComplete();
	}

	@Test
	void statementsJoinTheTransactionThroughTheContextAcrossThreads() {
		PipelineProbe probe = recorder.probe();
		Mono<Long> hopping = insertCarol()
				.publishOn(Schedulers.boundedElastic())
				.then(db.sql("update account set balance = balance + 1").rowsUpdated())
				.publishOn(Schedulers.parallel())
				.then(count());

		StepVerifier.create(probe.mono(rollback.run(hopping)))
				.expectNext(3L)
				.verifyComplete();

		TetherAssertions.assertThat(probe).ranOnOneConnection().acquiredExactly(1).hasNoStatementOutsideScope();
		assertThat(probe.statements()).allMatch(RecordedStatement::inTransaction);
	}

	@Test
	void anErrorIsRolledBackAndSignalled() {
		StepVerifier.create(rollbackAfter(db, insertCarol().then(Mono.error(new IllegalStateException("boom")))))
				.verifyErrorMessage("boom");
		assertThat(recorder.rollbacks()).isEqualTo(1);
	}

	@Test
	void aCancelIsRolledBackInTheBackground() {
		Flux<Long> endless = Flux.concat(insertCarol(), Flux.never());

		StepVerifier.create(rollbackAfter(db, endless))
				.expectNext(1L)
				.thenCancel()
				.verify();

		TetherAssertions.assertThat(recorder).isFullyReleased().hasNoOpenTransaction().hasNoCommit();
		assertThat(recorder.rollbacks()).isEqualTo(1);
	}

	@Test
	void itWorksWithVirtualTime() {
		StepVerifier.withVirtualTime(() -> rollback.run(Mono.delay(Duration.ofHours(1)).then(insertCarol()).then(count())))
				.expectSubscription()
				.expectNoEvent(Duration.ofMinutes(59))
				.thenAwait(Duration.ofMinutes(1))
				.expectNext(3L)
				.verifyComplete();
	}

	@Test
	void insideAnOuterTransactionTheWholeTransactionIsRolledBack() {
		PipelineProbe probe = recorder.probe();
		Mono<Long> outer = db.inTransaction(insertCarol().then(rollbackAfter(db, count())));

		StepVerifier.create(probe.mono(outer))
				.expectNext(3L)
				.verifyComplete();

		assertThat(recorder.commits()).isZero();
		assertThat(recorder.rollbacks()).isEqualTo(1);
	}

	@Test
	void theViewKeepsItsDatabaseAndChecksArguments() {
		assertThat(rollback.database()).isSameAs(db);
		assertThat(Rollback.of(db).toString()).contains("Rollback[");
		assertThatNullPointerException().isThrownBy(() -> Rollback.of(null)).withMessage("db must not be null");
		assertThatNullPointerException().isThrownBy(() -> rollback.run((Mono<Object>) null))
				.withMessage("pipeline must not be null");
	}

	@Test
	void nothingIsAcquiredBeforeSubscription() {
		Mono<Long> cold = rollbackAfter(db, insertCarol());
		assertThat(recorder.createSubscriptions()).isZero();
		StepVerifier.create(cold).expectNext(1L).verifyComplete();
		assertThat(recorder.acquisitions()).isEqualTo(1);
	}
}
