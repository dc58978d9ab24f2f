package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Database;
import io.tether.context.testing.Leaks;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The connection-scope contract, run on every database by a subclass. Each test ends by proving that
 * every connection acquired was released exactly once and the pool is fully returned.
 */
abstract class ScopeContract {

	protected ConnectionPool pool;
	protected CountingConnectionFactory counting;
	protected ConnectionScope scope;
	protected String table;

	abstract Database database();

	@BeforeEach
	void setUp() {
		pool = database().pool(4);
		counting = new CountingConnectionFactory(pool);
		scope = ConnectionScope.builder(counting).name(database().name().toLowerCase()).build();
		table = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
		scope.withConnection(c -> update(c, "CREATE TABLE " + table + " (id INT PRIMARY KEY, v VARCHAR(50))"))
				.block();
	}

	@AfterEach
	void tearDown() {
		try {
			Leaks.assertAllReleased(counting, pool);
		}
		finally {
			scope.withConnection(c -> update(c, "DROP TABLE " + table)).onErrorResume(e -> Mono.empty()).block();
			pool.disposeLater().block();
		}
	}

	protected Mono<Integer> sessionId() {
		return scope.withConnection(c -> query(c, database().sessionIdSql(), Number.class).single().map(Number::intValue));
	}

	@Test
	void inConnectionSharesOneConnectionForTheWholePipeline() {
		Mono<Boolean> sameSession = scope.inConnection(sessionId().flatMap(a -> sessionId().map(b -> a.equals(b))));
		sameSession.as(StepVerifier::create).expectNext(true).verifyComplete();
		assertThat(counting.acquired()).isEqualTo(2); // setUp + this pipeline
	}

	@Test
	void withConnectionOutsideAScopeAcquiresAndReleasesPerCall() {
		Flux.range(0, 3).concatMap(i -> scope.withConnection(c -> update(c,
				"INSERT INTO " + table + " VALUES (" + i + ", 'x')")))
				.as(StepVerifier::create).expectNext(1L, 1L, 1L).verifyComplete();
		assertThat(counting.acquired()).isEqualTo(4);
	}

	@Test
	void transactionCommitsOnComplete() {
		scope.inTransaction(scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (1, 'a')")))
				.as(StepVerifier::create).expectNext(1L).verifyComplete();
		scope.withConnection(c -> query(c, "SELECT COUNT(*) FROM " + table, Number.class).single())
				.map(Number::intValue).as(StepVerifier::create).expectNext(1).verifyComplete();
	}

	@Test
	void transactionRollsBackOnError() {
		scope.inTransaction(scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (1, 'a')"))
				.then(Mono.error(new IllegalStateException("boom"))))
				.as(StepVerifier::create).verifyErrorMessage("boom");
		scope.withConnection(c -> query(c, "SELECT COUNT(*) FROM " + table, Number.class).single())
				.map(Number::intValue).as(StepVerifier::create).expectNext(0).verifyComplete();
	}
}
