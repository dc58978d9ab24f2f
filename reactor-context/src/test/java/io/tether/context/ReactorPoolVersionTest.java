package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Database;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.pool.PoolBuilder;
import reactor.test.StepVerifier;

/**
 * r2dbc-pool 1.0.2 declares reactor-pool 1.0.8, which lacks the cancellation fixes of reactor-pool #263,
 * #265 and #268 (a cancelled pending acquire could leak or strand a connection). The build manages
 * reactor-pool through the Reactor BOM; this test fails if that ever resolves below 1.0.10, and checks
 * that the two work together on the cancellation paths those fixes are about.
 */
class ReactorPoolVersionTest {

	@Test
	void reactorPoolOnTheClasspathHasTheCancellationFixes() {
		String version = PoolBuilder.class.getPackage().getImplementationVersion();
		assertThat(version).as("reactor-pool Implementation-Version").isNotNull();
		assertThat(compare(version, "1.0.10")).as("reactor-pool %s must be >= 1.0.10", version).isGreaterThanOrEqualTo(0);
	}

	@Test
	void cancelledPendingAcquiresOfAnExhaustedPoolLeaveNothingBehind() {
		ConnectionPool pool = Database.pool(Database.H2.connectionFactory(), 1, Duration.ofSeconds(30));
		CountingConnectionFactory counting = new CountingConnectionFactory(pool);
		ConnectionScope scope = ConnectionScope.of(counting);
		Sinks.Empty<Void> hold = Sinks.empty();
		try {
			// One pipeline holds the only connection; fifty more queue up in the pool and are cancelled.
			StepVerifier.create(scope.inConnection(scope.withConnection(c -> hold.asMono())))
					.then(() -> Flux.range(0, 50).flatMap(i -> scope.inConnection(Mono.just(i)))
							.as(StepVerifier::create).thenAwait(Duration.ofMillis(50)).thenCancel().verify())
					.then(hold::tryEmitEmpty)
					.verifyComplete();
			// The pool still serves: every cancelled waiter was either removed or got and returned a connection.
			scope.withConnection(c -> query(c, "SELECT 1", Integer.class).single())
					.as(StepVerifier::create).expectNext(1).verifyComplete();
			Leaks.assertAllReleased(counting, pool);
		}
		finally {
			pool.disposeLater().block();
		}
	}

	static int compare(String a, String b) {
		int[] x = parse(a);
		int[] y = parse(b);
		for (int i = 0; i < Math.max(x.length, y.length); i++) {
			int d = Integer.compare(i < x.length ? x[i] : 0, i < y.length ? y[i] : 0);
			if (d != 0) {
				return d;
			}
		}
		return 0;
	}

	private static int[] parse(String v) {
		return Arrays.stream(v.split("[.-]")).takeWhile(p -> p.matches("\\d+")).mapToInt(Integer::parseInt).toArray();
	}

	@Test
	void versionComparisonIsNumeric() {
		assertThat(compare("1.0.9", "1.0.10")).isNegative();
		assertThat(compare("1.2.6", "1.0.10")).isPositive();
		assertThat(compare("1.0.10.RELEASE", "1.0.10")).isZero();
	}
}
