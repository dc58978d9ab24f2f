package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.query;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.context.testing.Database;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * On PostgreSQL outside a transaction, a cancelled statement the server is still answering after the drain
 * budget is cancelled at the server (the driver's cancel request): the remainder is not read in full, the
 * server's "canceling statement due to user request" (57014) is swallowed by the drain, and the cancel never
 * reaches the statement that runs next on the session.
 */
class PostgresCancelDrainIT extends CancelDrainContract {

	@Override
	Database database() {
		return Database.POSTGRES;
	}

	@Override
	String series(long rows) {
		// In the select list, generate_series streams its rows; in FROM it would materialise them first.
		return "SELECT generate_series(1, " + rows + "), pg_backend_pid()";
	}

	@Override
	long largeResult() {
		// Far more than the socket buffers hold, so the server is still sending when the cancel arrives.
		return 10_000_000;
	}

	@Override
	void assertRowsReadAfterTheCancel(long read, long rows) {
		assertThat(read).as("rows read after the cancel of %d rows", rows).isLessThan(rows / 2);
	}

	/**
	 * A statement that only a cancel at the server can end (it would sleep for a minute), cancelled as soon as
	 * it is on its way: the next statement of the scope runs on the same session, and the connection is not
	 * destroyed. Without the cancel request the drain would wait out the sleep, or give up after
	 * {@code cleanupTimeout} and destroy the connection, with the next statement still queued behind the sleep.
	 */
	@Test
	void aSlowStatementCancelledInAScopeIsCancelledAtTheServer() {
		counting.onExecute(ctx -> ctx.<Sinks.Empty<Void>>getOrEmpty(Sinks.Empty.class).ifPresent(Sinks.Empty::tryEmitEmpty));
		Sinks.Empty<Void> cancel = Sinks.empty();
		Integer session = session().block(HANG_LIMIT);
		scope.inConnection(scope.withConnectionMany(c -> query(c, "SELECT 1 FROM pg_sleep(60)", Integer.class))
						.takeUntilOther(cancel.asMono())
						.contextWrite(ctx -> ctx.put(Sinks.Empty.class, cancel))
						.then(session()))
				.as(StepVerifier::create).expectNext(session).expectComplete().verify(java.time.Duration.ofSeconds(30));
		session().as(StepVerifier::create).expectNext(session).expectComplete().verify(HANG_LIMIT);
	}

	/**
	 * PostgreSQL cancels only the statement a backend is executing when the cancel request arrives: one that
	 * overtakes its statement (still in the socket, being parsed) is lost. With a budget of zero the request
	 * leaves the moment the drain starts, so it often overtakes; the drain sends it again until the statement
	 * ends. (Sent once, a lost request left the minute-long sleep running: the scope's next statement waited
	 * behind it, about one build in ten with the 5 ms default on a loaded machine.)
	 */
	@Test
	void aCancelRequestThatOvertakesItsStatementIsSentAgain() {
		ConnectionScope eager = ConnectionScope.builder(counting).name("eager-cancel").drainBudget(java.time.Duration.ZERO)
				.build();
		counting.onExecute(ctx -> ctx.<Sinks.Empty<Void>>getOrEmpty(Sinks.Empty.class).ifPresent(Sinks.Empty::tryEmitEmpty));
		for (int i = 0; i < 5; i++) {
			Sinks.Empty<Void> cancel = Sinks.empty();
			eager.inConnection(eager.withConnectionMany(c -> query(c, "SELECT 1 FROM pg_sleep(60)", Integer.class))
							.takeUntilOther(cancel.asMono())
							.contextWrite(ctx -> ctx.put(Sinks.Empty.class, cancel))
							.then(eager.withConnection(c -> query(c, "SELECT 2", Integer.class).single())))
					.as(StepVerifier::create).expectNext(2).expectComplete().verify(java.time.Duration.ofSeconds(30));
		}
	}

	/**
	 * {@code take(1)} of the results (not of the rows) cancels the execution while the application still reads
	 * the first result's rows: nobody has given up on the statement, so it is not cancelled at the server, however
	 * long the rows take.
	 */
	@Test
	void aResultStillBeingReadIsNotCancelledWhenItsExecutionIs() {
		scope.inConnection(scope.withConnectionMany(c -> Flux.from(c.createStatement(series(300_000)).execute())
								.take(1)
								.concatMap(r -> r.map((row, md) -> row.get(0, Integer.class))))
						.count())
				.as(StepVerifier::create).expectNext(300_000L).expectComplete().verify(HANG_LIMIT);
	}

	/**
	 * Cuts results of sizes around what the drain budget reads, so that the drain often ends just as the cancel
	 * request reaches the server: the cancel must still never hit the statement that follows (a counting query of
	 * some milliseconds, which a late cancel would fail with 57014).
	 */
	@Test
	void aCancelRequestNeverReachesTheNextStatement() {
		Integer session = session().block(HANG_LIMIT);
		List<Long> counts = new ArrayList<>();
		for (int i = 0; i < 40; i++) {
			long rows = 1_000 + (i * 7_919L) % 200_000;
			scope.inConnection(firstRowOf(rows).then(scope.withConnection(c ->
							query(c, "SELECT count(*) FROM generate_series(1, 200000)", Long.class).single())))
					.as(StepVerifier::create).consumeNextWith(counts::add).expectComplete().verify(HANG_LIMIT);
		}
		assertThat(counts).hasSize(40).containsOnly(200_000L);
		session().as(StepVerifier::create).expectNext(session).expectComplete().verify(HANG_LIMIT);
	}
}
