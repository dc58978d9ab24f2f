package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.tether.pool.ValidationMode;
import io.tether.pool.testing.Await;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * r2dbc-postgresql #661 and r2dbc-pool #198/#232/#210: a query cancelled while its result is still
 * streaming (more rows than the driver's 256-row prefetch) and the connection closed right away. The next
 * borrower of a one-connection pool must run its statement normally — not hang on a wedged connection,
 * not read the rest of the previous result. The pool destroys the connection instead of reusing it, which
 * the server confirms: the streaming session ends and the next borrower has a new backend PID.
 * Validation is off, so no validation query can hide a wedged connection.
 */
class CancelledStreamIT extends ReliabilitySuite {

	private static final Duration OP_GUARD = Duration.ofSeconds(45);
	private static final String MANY_ROWS = "SELECT g FROM generate_series(1, 100000) AS g";

	@RepeatedTest(5)
	void cancelAfterMoreRowsThanThePrefetchThenTheNextBorrowerRuns() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "cancel-take", b -> b.maxSize(1).validation(ValidationMode.NEVER))) {
			AtomicInteger streamingPid = new AtomicInteger();
			Flux<Integer> rows = Flux.usingWhen(p.pool.create(),
					c -> PoolUnderTest.pidOf(c).doOnNext(streamingPid::set).thenMany(stream(c)),
					Connection::close);

			StepVerifier.create(rows.take(300)).expectNextCount(300).expectComplete().verify(OP_GUARD);

			assertNextBorrowerRunsOnAFreshSession(p, streamingPid.get());
		}
	}

	@Test
	void explicitCancelMidStreamInsideATransactionThenTheNextBorrowerRuns() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "cancel-tx", b -> b.maxSize(1).validation(ValidationMode.NEVER))) {
			AtomicInteger streamingPid = new AtomicInteger();
			Flux<Integer> rows = Flux.usingWhen(p.pool.create(),
					c -> Mono.from(c.beginTransaction())
							.then(PoolUnderTest.pidOf(c)).doOnNext(streamingPid::set)
							.thenMany(stream(c)),
					Connection::close);

			StepVerifier.create(rows, 0)
					.thenRequest(1000)
					.expectNextCount(1000)
					.thenCancel()
					.verify(OP_GUARD);

			assertNextBorrowerRunsOnAFreshSession(p, streamingPid.get());
			Connection next = within(Mono.from(p.pool.create()), OP_GUARD);
			try {
				assertThat(next.isAutoCommit()).as("the next borrower is not inside the cancelled transaction").isTrue();
			}
			finally {
				PoolUnderTest.complete(Mono.from(next.close()), OP_GUARD);
			}
		}
	}

	@Test
	void repeatedCancelsNeverWedgeTheOnlyConnection() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "cancel-many", b -> b.maxSize(1).validation(ValidationMode.NEVER))) {
			for (int i = 0; i < 20; i++) {
				int take = 257 + i * 97;
				Flux<Integer> rows = Flux.usingWhen(p.pool.create(), CancelledStreamIT::stream, Connection::close);
				StepVerifier.create(rows.take(take)).expectNextCount(take).expectComplete().verify(OP_GUARD);
				assertThat(within(selectOne(p), OP_GUARD)).as("round %d", i).isEqualTo(42);
			}
			p.assertNothingLeaked();
		}
	}

	private static void assertNextBorrowerRunsOnAFreshSession(PoolUnderTest p, int streamingPid) {
		assertThat(streamingPid).isPositive();
		assertThat(within(selectOne(p), OP_GUARD)).as("the next borrower reads its own result").isEqualTo(42);
		int next = within(p.pid(), OP_GUARD);
		assertThat(next).as("a connection closed mid-stream is destroyed, not reused").isNotEqualTo(streamingPid);
		Await.until(() -> !p.serverPids().contains(streamingPid), "the cancelled session ended on the server");
		p.assertNothingLeaked();
	}

	private static Mono<Integer> selectOne(PoolUnderTest p) {
		return Mono.usingWhen(p.pool.create(), c -> PoolUnderTest.one(c, "SELECT 42", Integer.class), Connection::close);
	}

	private static Flux<Integer> stream(Connection c) {
		return Flux.from(c.createStatement(MANY_ROWS).execute())
				.concatMap(r -> r.map(row -> Objects.requireNonNull(row.get(0, Integer.class))));
	}
}
