package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.StandardErrorCapture;
import io.tether.pool.PoolClosedException;
import io.tether.pool.PoolSettings;
import io.tether.pool.TetherPool;
import io.tether.pool.ValidationMode;
import io.tether.pool.testing.Await;
import io.tether.pool.testing.PgSessions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;
import reactor.test.subscriber.TestSubscriber;

/**
 * The source documents' "unclosed connection at shutdown" problem: {@code close(grace)} stops new
 * acquires, lets held connections finish within the grace period, then closes everything, and the server
 * is left with no session of the pool — also when a borrower never gives its connection back, and also
 * right after a release (reactor-pool's "Too many permits returned" race).
 */
class GracefulCloseIT extends ReliabilitySuite {

	private static final Duration OP_GUARD = Duration.ofSeconds(45);

	@Test
	void closeStopsNewAcquiresAndWaitsForHeldConnectionsWithinTheGrace() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "close-grace", b -> b.maxSize(2))) {
			within(p.sleepThenPid(Duration.ofMillis(10)), OP_GUARD);
			Connection held = within(Mono.from(p.pool.create()), OP_GUARD);
			int heldPid = within(PoolUnderTest.pidOf(held), OP_GUARD);

			TestSubscriber<Void> closing = TestSubscriber.create();
			p.pool.close(Duration.ofSeconds(30)).subscribe(closing);

			StepVerifier.create(p.pool.create()).expectError(PoolClosedException.class).verify(OP_GUARD);
			assertThat(closing.isTerminated()).as("close waits for the held connection").isFalse();
			assertThat(within(PoolUnderTest.pidOf(held), OP_GUARD)).as("the held connection keeps working").isEqualTo(heldPid);
			assertThat(p.serverPids()).contains(heldPid);

			PoolUnderTest.complete(Mono.from(held.close()), OP_GUARD);
			Await.until(closing::isTerminated, "close completes once the held connection is back");
			assertThat(closing.getTerminalSignal()).isNotNull();
			assertThat(closing.getTerminalSignal().isOnComplete()).as("close completes normally: %s", closing.getTerminalSignal()).isTrue();
			assertThat(p.pool.isClosed()).isTrue();
			Await.until(() -> p.serverPids().isEmpty(), "no session left on the server: " + pg.states(p.app));
		}
	}

	@Test
	void afterTheGraceEvenAConnectionNeverReturnedIsClosed() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "close-force", b -> b.maxSize(2))) {
			Connection forgotten = within(Mono.from(p.pool.create()), OP_GUARD);
			int pid = within(PoolUnderTest.pidOf(forgotten), OP_GUARD);

			PoolUnderTest.complete(p.pool.close(Duration.ofMillis(300)), OP_GUARD);

			Await.until(() -> !p.serverPids().contains(pid), "the never-returned session closed after the grace");
			PoolUnderTest.complete(Mono.from(forgotten.close()), OP_GUARD);
			assertThat(p.serverPids()).isEmpty();
		}
	}

	@Test
	void closingRightAfterAReleaseLeavesNothingOpenAndLogsNoPermitError() {
		try (StandardErrorCapture err = StandardErrorCapture.start()) {
			for (int i = 0; i < 20; i++) {
				String app = PgSessions.newApplicationName("close-race");
				TetherPool pool = TetherPool.create(PgSessions.factory(app), PoolSettings.builder().name(app).maxSize(1).build());
				Mono<Void> useThenClose = Mono.usingWhen(pool.create(), PoolUnderTest::pidOf, Connection::close)
						.then(pool.close(Duration.ofSeconds(5)));
				PoolUnderTest.complete(useThenClose, OP_GUARD);
				Await.until(() -> pg.pids(app).isEmpty(), "round " + i + ": no session left on the server");
			}
			assertThat(err.text()).as("reactor-pool's warning when dispose races the release").doesNotContain("Too many permits returned");
		}
	}

	/**
	 * reactor-pool's recycle race, forced: a connection released with a transaction open is rolled back on the
	 * driver's thread and recycled there; that recycling hands it straight to a waiting acquire, whose
	 * subscriber (still on that thread, inside the recycling) returns it and closes the pool. reactor-pool then
	 * checks the slot it had queued, which the second borrower has released meanwhile: the pool must not
	 * destroy the connection a second time.
	 */
	@Test
	void closingFromInsideTheRecycleOfAReleaseDestroysTheConnectionOnce() {
		String app = PgSessions.newApplicationName("close-recycle");
		CountingConnectionFactory physical = new CountingConnectionFactory(PgSessions.factory(app));
		TetherPool pool = TetherPool.create(physical,
				PoolSettings.builder().name(app).maxSize(1).validation(ValidationMode.NEVER).build());
		try (StandardErrorCapture err = StandardErrorCapture.start()) {
			Connection first = within(Mono.from(pool.create()), OP_GUARD);
			PoolUnderTest.complete(Mono.from(first.beginTransaction()).then(PoolUnderTest.pidOf(first)).then(), OP_GUARD);
			Sinks.Empty<Void> closed = Sinks.empty();
			pool.create().subscribe(second -> Mono.from(second.close())
					.then(pool.close(Duration.ZERO))
					.subscribe(null, closed::tryEmitError, closed::tryEmitEmpty));
			Mono.from(first.close()).subscribe();

			PoolUnderTest.complete(closed.asMono(), OP_GUARD);
			Await.until(() -> physical.released() == 1 && pg.pids(app).isEmpty(), "the one connection closed on the server");
			assertThat(physical.acquired()).as("physical connections opened").isEqualTo(1);
			assertThat(physical.doubleReleases()).as("physical connection closed a second time").isZero();
			assertThat(err.text()).doesNotContain("Too many permits returned");
		}
	}

	@Test
	void closeLaterWithNothingHeldClosesEveryIdleSession() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "close-later", b -> b.maxSize(3))) {
			List<PoolUnderTest.Outcome> warm = PoolUnderTest.load(3, 3, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(300)));
			assertThat(PoolUnderTest.errors(warm)).isEmpty();
			Await.until(() -> p.serverPids().size() == 3, "3 sessions open");

			PoolUnderTest.complete(p.pool.closeLater(), OP_GUARD);

			Await.until(() -> p.serverPids().isEmpty(), "idle sessions closed: " + pg.states(p.app));
			StepVerifier.create(p.pool.create()).expectError(PoolClosedException.class).verify(OP_GUARD);
		}
	}
}
