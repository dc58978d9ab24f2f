package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static io.tether.context.testing.CountingConnectionFactory.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Section 2 of issue 10, inside a scope: a large result cut early ({@code take(1)}) must not cost the next
 * statement of the scope the whole remainder. What must hold on every driver: the next statement runs on
 * the scope's connection and reads its own result, the connection goes back to the pool (not destroyed),
 * nothing is dropped or logged as an error, every connection acquired is released once. How much of the
 * remainder is read differs: on PostgreSQL outside a transaction the server is asked to cancel the
 * statement, so far less than the remainder is read; inside a transaction, and on drivers without a cancel
 * request (H2), the remainder is drained in full. The rows read are counted by the counting factory.
 */
abstract class CancelDrainContract extends DatabaseContract {

	static final Duration HANG_LIMIT = Duration.ofSeconds(60);

	final Queue<Throwable> dropped = new ConcurrentLinkedQueue<>();

	@Override
	int poolSize() {
		// One connection: a later scope that gets a different session proves the connection was destroyed.
		return 1;
	}

	/** SQL of {@code rows} rows, each (n, the session's id), streamed by the server as they are produced. */
	abstract String series(long rows);

	/** How many rows {@link #cancellingALargeResultLetsTheNextStatementOfTheScopeRunOnItsSession} cuts. */
	abstract long largeResult();

	/** Asserts the rows read after the cancel of a result of {@code rows} rows, outside a transaction. */
	abstract void assertRowsReadAfterTheCancel(long read, long rows);

	@BeforeEach
	void captureDroppedErrors() {
		Hooks.onErrorDropped(dropped::add);
	}

	@AfterEach
	void nothingDropped() {
		try {
			Leaks.assertAllReleased(counting, pool);
			assertThat(dropped).as("errors dropped (by the drain of a cancelled result)").isEmpty();
		}
		finally {
			Hooks.resetOnErrorDropped();
		}
	}

	Mono<Integer> session() {
		return scope.withConnection(c -> query(c, database().sessionIdSql(), Number.class).single().map(Number::intValue));
	}

	/** The session id of the first row of {@code series(rows)}; the rest of the result is cancelled. */
	Flux<Integer> firstRowOf(long rows) {
		return scope.withConnectionMany(c -> Flux.from(c.createStatement(series(rows)).execute())
				.concatMap(r -> r.map((row, md) -> row.get(1, Number.class).intValue()))).take(1);
	}

	@Test
	void cancellingALargeResultLetsTheNextStatementOfTheScopeRunOnItsSession() {
		long rows = largeResult();
		long before = counting.rowsRead();
		int[] session = new int[1];
		scope.inConnection(firstRowOf(rows).concatWith(session()))
				.collectList()
				.as(StepVerifier::create)
				.assertNext(sessions -> {
					assertThat(sessions).as("session of the cut result, then of the next statement").hasSize(2)
							.containsOnly(sessions.get(0));
					session[0] = sessions.get(0);
				})
				.expectComplete().verify(HANG_LIMIT);
		// The cut result's first row and the next statement's one row were read by the application.
		assertRowsReadAfterTheCancel(counting.rowsRead() - before - 2, rows);
		Leaks.assertAllReleased(counting, pool);
		session().as(StepVerifier::create).expectNext(session[0]).as("the same pooled session: the connection was not destroyed")
				.expectComplete().verify(HANG_LIMIT);
	}

	/**
	 * Inside a transaction the cancelled statement's remainder is read in full on every driver (a cancel at the
	 * server would abort the transaction): the statements after it and the COMMIT run as if nothing happened.
	 */
	@Test
	void cancellingALargeResultInATransactionDrainsItAndTheTransactionGoesOn() {
		long rows = 100_000;
		long before = counting.rowsRead();
		scope.inTransaction(firstRowOf(rows).then(scope.withConnection(c -> update(c, "INSERT INTO " + table + " VALUES (1, 'after')"))))
				.as(StepVerifier::create).expectNext(1L).expectComplete().verify(HANG_LIMIT);
		assertThat(counting.rowsRead() - before).as("rows read: the whole cut result").isEqualTo(rows);
		scope.withConnection(c -> query(c, "SELECT v FROM " + table, String.class).collectList())
				.as(StepVerifier::create).expectNext(java.util.List.of("after")).expectComplete().verify(HANG_LIMIT);
	}
}
