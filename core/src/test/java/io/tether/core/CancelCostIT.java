package io.tether.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.context.testing.CountingConnectionFactory;
import io.tether.pool.TetherPool;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * Section 2 of issue 10: a cancel must be cheap. Outside a scope, {@code first()} of a small result (which
 * cancels the rows after the first) keeps the pooled connection: counted by the server backends that
 * served the statements and by the pool's invalidations.
 */
class CancelCostIT {

	static final Duration TIMEOUT = Duration.ofSeconds(30);

	TetherPool pool;
	Database db;

	@BeforeEach
	void open() {
		pool = TetherPool.create(io.tether.context.testing.Database.postgresUrl() + "?maxSize=1&acquireTimeout=PT10S");
		db = Database.of(pool);
	}

	@AfterEach
	void close() {
		pool.closeLater().block(TIMEOUT);
	}

	@Test
	void firstOfASmallResultOutsideAScopeKeepsThePooledConnection() {
		Set<Integer> backends = ConcurrentHashMap.newKeySet();
		for (int i = 0; i < 20; i++) {
			db.sql("select pg_backend_pid() from generate_series(1, 3)").mapTo(Integer.class).first()
					.doOnNext(backends::add)
					.as(StepVerifier::create).expectNextCount(1).expectComplete().verify(TIMEOUT);
			db.sql("select pg_backend_pid()").mapTo(Integer.class).all().take(1).next()
					.doOnNext(backends::add)
					.as(StepVerifier::create).expectNextCount(1).expectComplete().verify(TIMEOUT);
		}
		assertThat(backends).as("server backends that served 40 cancelled results").hasSize(1);
		assertThat(pool.stats().invalidations()).as("connections destroyed").isZero();
	}

	@Test
	void takeOneOfALargeResultInsideAScopeLeavesItsConnectionUsable() {
		Set<Integer> backends = ConcurrentHashMap.newKeySet();
		for (int i = 0; i < 5; i++) {
			db.inConnection(db.sql("select g from generate_series(1, 100000) g").mapTo(Integer.class).all().take(1).then()
							.then(db.sql("select pg_backend_pid()").mapTo(Integer.class).one()))
					.doOnNext(backends::add)
					.as(StepVerifier::create).expectNextCount(1).expectComplete().verify(TIMEOUT);
		}
		assertThat(backends).hasSize(1);
		assertThat(pool.stats().invalidations()).isZero();
	}

	/**
	 * A cancel that lands while the statement is being sent (after the driver's execute() was subscribed,
	 * before its subscription reached Tether's gate) is drained like any other, inside and outside a scope:
	 * the connection goes back to the pool instead of being destroyed as "still streaming". Counted by the
	 * backends that answer the statement run after each cancelled pipeline, and by the pool's invalidations.
	 */
	@Test
	void cancelWhileTheStatementIsBeingSentKeepsThePooledConnection() {
		CountingConnectionFactory counting = new CountingConnectionFactory(pool);
		Database cancelling = Database.of(counting);
		counting.onExecute(ctx -> ctx.<Sinks.Empty<Void>>getOrEmpty(Sinks.Empty.class).ifPresent(Sinks.Empty::tryEmitEmpty));
		Set<Integer> backends = ConcurrentHashMap.newKeySet();
		for (int i = 0; i < 10; i++) {
			Mono<Void> inScope = cancelling.inConnection(cancelling.sql("select g from generate_series(1, 500) g")
					.mapTo(Integer.class).all().then());
			Mono<Void> outside = cancelling.sql("select g from generate_series(1, 500) g").mapTo(Integer.class).all().then();
			for (Mono<Void> pipeline : java.util.List.of(inScope, outside)) {
				Sinks.Empty<Void> cancel = Sinks.empty();
				pipeline.flux().takeUntilOther(cancel.asMono()).then().contextWrite(ctx -> ctx.put(Sinks.Empty.class, cancel))
						.as(StepVerifier::create).expectComplete().verify(TIMEOUT);
				db.sql("select pg_backend_pid()").mapTo(Integer.class).one().doOnNext(backends::add)
						.as(StepVerifier::create).expectNextCount(1).expectComplete().verify(TIMEOUT);
			}
		}
		assertThat(counting.acquired()).as("checkouts of the cancelled pipelines").isEqualTo(20);
		assertThat(counting.released()).as("releases").isEqualTo(20);
		assertThat(backends).as("server backends that served the statements after 20 cancelled ones").hasSize(1);
		assertThat(pool.stats().invalidations()).as("connections destroyed").isZero();
	}
}
