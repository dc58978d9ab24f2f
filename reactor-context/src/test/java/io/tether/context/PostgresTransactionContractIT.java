package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.R2dbcException;
import io.tether.context.testing.Database;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class PostgresTransactionContractIT extends TransactionContract {

	@Override
	Database database() {
		return Database.POSTGRES;
	}

	@Override
	String currentIsolationSql() {
		return "SHOW transaction_isolation";
	}

	/** Clause 8: a write in a read-only transaction fails with the server's error (SQLState 25006) and nothing is kept. */
	@Test
	void readOnlyTransactionRejectsWritesWithTheServerError() {
		scope.inTransaction(TransactionOptions.builder().readOnly(true).build(), insert(1))
				.as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(R2dbcException.class)
						.satisfies(r -> assertThat(((R2dbcException) r).getSqlState()).isEqualTo("25006")))
				.verify(TIMEOUT);
		assertThat(committedIds()).isEmpty();
		assertThat(txCommands()).containsExactly("2:BEGIN", "2:ROLLBACK");
	}

	/** Clause 8: statementTimeout cancels a long statement; the same pooled connection has no timeout afterwards. */
	@Test
	void statementTimeoutCancelsALongStatementAndIsResetBeforeRelease() {
		TransactionOptions opts = TransactionOptions.builder().statementTimeout(Duration.ofMillis(200)).build();
		try (Small small = small(b -> b)) {
			String session = small.sessionState();
			small.scope.inTransaction(opts, small.scope.withConnection(c -> query(c, "SELECT 1 FROM pg_sleep(5)", Number.class).then()))
					.as(StepVerifier::create)
					.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(R2dbcException.class)
							.satisfies(r -> assertThat(((R2dbcException) r).getSqlState()).isEqualTo("57014")))
					.verify(TIMEOUT);
			assertThat(small.scope.withConnection(c -> single(c, "SHOW statement_timeout", String.class)).block(TIMEOUT))
					.isEqualTo("0");
			assertThat(small.sessionState()).as("same connection, session restored").isEqualTo(session);
		}
	}

	/** Clause 8: inside a transaction with lockWaitTimeout the server's lock_timeout is that value; afterwards it is 0 again. */
	@Test
	void lockWaitTimeoutIsAppliedToTheTransactionAndResetBeforeRelease() {
		TransactionOptions opts = TransactionOptions.builder().lockWaitTimeout(Duration.ofMillis(200)).build();
		try (Small small = small(b -> b)) {
			small.scope.inTransaction(opts, small.scope.withConnection(c -> single(c, "SHOW lock_timeout", String.class)))
					.as(StepVerifier::create).expectNext("200ms").expectComplete().verify(TIMEOUT);
			assertThat(small.scope.withConnection(c -> single(c, "SHOW lock_timeout", String.class)).block(TIMEOUT))
					.isEqualTo("0");
		}
	}

	/** Clause 8: an update blocked by another transaction's row lock fails after lockWaitTimeout (SQLState 55P03). */
	@Test
	void lockWaitTimeoutFailsAnUpdateBlockedByAnotherTransaction() {
		insert(1).block(TIMEOUT);
		Connection holder = Mono.from(Database.POSTGRES.connectionFactory().create()).block(TIMEOUT);
		try {
			Mono.from(holder.beginTransaction())
					.then(query(holder, "SELECT id FROM " + table + " WHERE id = 1 FOR UPDATE", Number.class).then())
					.block(TIMEOUT);
			TransactionOptions opts = TransactionOptions.builder().lockWaitTimeout(Duration.ofMillis(200)).build();
			scope.inTransaction(opts, scope.withConnection(c -> update(c, "UPDATE " + table + " SET v = 'w' WHERE id = 1")))
					.as(StepVerifier::create)
					.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(R2dbcException.class)
							.satisfies(r -> assertThat(((R2dbcException) r).getSqlState()).isEqualTo("55P03")))
					// bounded so that an ignored timeout fails the test instead of waiting for the lock forever
					.verify(Duration.ofSeconds(10));
		}
		finally {
			Mono.from(holder.rollbackTransaction()).onErrorResume(e -> Mono.empty())
					.then(Mono.from(holder.close())).block(TIMEOUT);
		}
	}

	/** Clause 2 at the server: a COMMIT rejected by a deferred constraint is the scope's error; the connection is released clean. */
	@Test
	void commitRejectedByTheServerSurfacesAsError() {
		String deferred = table + "_d";
		scope.withConnection(c -> update(c, "CREATE TABLE " + deferred
				+ " (id INT, CONSTRAINT " + deferred + "_u UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)")).block(TIMEOUT);
		try (Small small = small(b -> b)) {
			String session = small.sessionState();
			small.scope.inTransaction(small.scope.withConnection(c -> update(c, "INSERT INTO " + deferred + " VALUES (1)")
							.then(update(c, "INSERT INTO " + deferred + " VALUES (1)"))))
					.as(StepVerifier::create)
					.expectError(R2dbcDataIntegrityViolationException.class)
					.verify(TIMEOUT);
			assertThat(small.sessionState()).as("connection back in auto-commit, no transaction").isEqualTo(session);
			assertThat(small.scope.withConnection(c -> single(c, "SELECT count(*) FROM " + deferred, Number.class))
					.block(TIMEOUT).intValue()).isZero();
		}
		finally {
			scope.withConnection(c -> update(c, "DROP TABLE " + deferred)).block(TIMEOUT);
		}
	}
}
