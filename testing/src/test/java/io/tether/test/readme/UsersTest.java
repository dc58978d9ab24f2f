package io.tether.test.readme;

import static io.tether.test.Rollback.rollbackAfter;

import io.tether.core.Database;
import io.tether.test.PipelineProbe;
import io.tether.test.RecordingConnectionFactory;
import io.tether.test.Rollback;
import io.tether.test.TetherAssertions;
import io.tether.test.TetherTest;
import java.time.Duration;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

@TetherTest(schema = "users.sql", rollback = true)
class UsersTest {

	static Mono<Long> register(Database db, String email) {
		return db.sql("insert into users (email) values (:email)")
				.bind("email", email)
				.returnGeneratedValues("id")
				.mapTo(Long.class)
				.one();
	}

	static Mono<Long> countUsers(Database db) {
		return db.sql("select count(*) from users").mapTo(Long.class).one();
	}

	@Test
	void registersAUser(Database db, Rollback rollback) {
		StepVerifier.create(rollback.run(register(db, "alice@example.com").then(countUsers(db))))
				.expectNext(1L)                    // visible inside the pipeline...
				.verifyComplete();                 // ...and rolled back before it completed

		StepVerifier.create(countUsers(db))
				.expectNext(0L)
				.verifyComplete();
	}

	@Test
	void expiresSessionsAfterAnHour(Database db) {
		// Build the whole pipeline inside the supplier: Mono.delay picks its (virtual) clock when assembled.
		StepVerifier.withVirtualTime(() -> rollbackAfter(db, register(db, "bob@example.com")
						.flatMap(id -> db.sql("insert into sessions (user_id, expires_at) values (:id, :at)")
								.bind("id", id).bind("at", LocalDateTime.of(2000, 1, 1, 0, 0))
								.rowsUpdated())
						.then(Mono.delay(Duration.ofHours(1)))
						.then(db.sql("delete from sessions where expires_at < current_timestamp").rowsUpdated())))
				.expectSubscription()
				.expectNoEvent(Duration.ofMinutes(59))
				.thenAwait(Duration.ofMinutes(1))
				.expectNext(1L)
				.verifyComplete();
	}

	@Test
	void aTransactionRunsOnOneConnection(Database db, Rollback rollback, RecordingConnectionFactory recorder) {
		PipelineProbe probe = recorder.probe();

		StepVerifier.create(probe.mono(rollback.run(db.inTransaction(
						register(db, "carol@example.com").then(countUsers(db))))))
				.expectNext(1L)
				.verifyComplete();

		TetherAssertions.assertThat(probe)
				.ranOnOneConnection()
				.acquiredExactly(1)
				.hasNoStatementOutsideScope();     // nothing lost the Reactor Context on the way
	}
}
