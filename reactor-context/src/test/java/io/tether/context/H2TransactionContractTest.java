package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.IsolationLevel;
import io.tether.context.testing.Database;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

class H2TransactionContractTest extends TransactionContract {

	@Override
	Database database() {
		return Database.H2;
	}

	@Override
	String currentIsolationSql() {
		return "SELECT ISOLATION_LEVEL FROM INFORMATION_SCHEMA.SESSIONS WHERE SESSION_ID = SESSION_ID()";
	}

	/**
	 * r2dbc-h2 1.1.0 applies an isolation level as {@code SET LOCK_MODE n}, which H2 2.x no longer maps to an
	 * isolation level: the connection reports SERIALIZABLE, the session stays READ COMMITTED.
	 */
	@Override
	String expectedServerIsolation(IsolationLevel level) {
		return "read committed";
	}

	/**
	 * Clause 8 on H2: r2dbc-h2 1.1.0 ignores {@code READ_ONLY} in the transaction definition (it only logs that
	 * H2 needs read-only on the URL), so a write in a read-only transaction succeeds and is committed.
	 */
	@Test
	void readOnlyIsIgnoredByTheH2DriverSoAWriteCommits() {
		scope.inTransaction(TransactionOptions.builder().readOnly(true).build(), insert(1))
				.as(StepVerifier::create).expectNext(1L).expectComplete().verify(TIMEOUT);
		assertThat(committedIds()).containsExactly(1);
	}

	/**
	 * Clause 8 on H2: r2dbc-h2 1.1.0 implements {@code setStatementTimeout} as a no-op. Tether still sets the
	 * timeout after BEGIN and resets it (to zero) before release; the statements run normally.
	 */
	@Test
	void statementTimeoutIsSetAndResetButIgnoredByTheH2Driver() {
		TransactionOptions opts = TransactionOptions.builder().statementTimeout(Duration.ofMillis(200)).build();
		scope.inTransaction(opts, scope.withConnection(c -> update(c, "INSERT INTO " + table + " SELECT X, 'v' FROM SYSTEM_RANGE(1, 1000)")))
				.as(StepVerifier::create).expectNext(1000L).expectComplete().verify(TIMEOUT);
		assertThat(counting.commands()).filteredOn(c -> c.contains("STATEMENT TIMEOUT"))
				.containsExactly("2:STATEMENT TIMEOUT 200", "2:STATEMENT TIMEOUT 0");
		assertThat(committedIds()).hasSize(1000);
	}
}
