package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.tether.pool.ValidationMode;
import io.tether.pool.testing.Await;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * A {@code validationQuery} that the server answers with an error fails the validation: the connection is
 * destroyed and the caller gets a fresh one. The query here fails only on a session a borrower marked as
 * unhealthy (a session variable), so the test can choose which connection is bad.
 */
class ValidationIT extends ReliabilitySuite {

	private static final Duration OP_GUARD = Duration.ofSeconds(45);
	private static final String CHECK =
			"SELECT 1 / (CASE WHEN current_setting('tether.healthy', true) = 'no' THEN 0 ELSE 1 END)";

	@Test
	void aValidationQueryFailingOnTheServerReplacesTheConnection() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "vquery",
				b -> b.maxSize(1).validation(ValidationMode.ON_ACQUIRE_REMOTE).validationQuery(CHECK))) {
			int first = within(p.pid(), OP_GUARD);
			assertThat(within(p.pid(), OP_GUARD)).as("a healthy session passes the validation query").isEqualTo(first);
			assertThat(p.validationFailures).isEmpty();

			int marked = within(Mono.usingWhen(p.pool.create(),
					c -> PoolUnderTest.run(c, "SET tether.healthy = 'no'").then(PoolUnderTest.pidOf(c)),
					Connection::close), OP_GUARD);
			assertThat(marked).isEqualTo(first);

			int next = within(p.pid(), OP_GUARD);

			assertThat(p.validationFailures).as("the server's error (division by zero) is a failed validation")
					.hasSize(1)
					.allSatisfy(e -> assertThat(e).isInstanceOf(R2dbcException.class));
			assertThat(next).as("the unhealthy session is not handed out").isNotEqualTo(first);
			assertThat(p.stats().validationFailures()).isEqualTo(1);
			Await.until(() -> !p.serverPids().contains(first), "the unhealthy session is closed on the server");
			p.assertNothingLeaked();
		}
	}
}
