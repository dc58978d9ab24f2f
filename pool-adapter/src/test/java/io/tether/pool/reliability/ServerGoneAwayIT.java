package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.assertNoneHung;
import static io.tether.pool.reliability.PoolUnderTest.describe;
import static io.tether.pool.reliability.PoolUnderTest.errors;
import static io.tether.pool.reliability.PoolUnderTest.load;
import static io.tether.pool.reliability.PoolUnderTest.pids;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.pool.reliability.PoolUnderTest.Outcome;
import io.tether.pool.testing.Await;
import io.tether.pool.testing.PgSessions;
import io.tether.pool.testing.TcpProxy;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * "Server has gone away" (the source documents' MySQL error) without touching the shared server: the pool
 * reaches PostgreSQL through a {@link TcpProxy} that cuts every connection and then refuses new ones for a
 * while. During the outage every operation fails with a connection error or an acquire timeout and none
 * waits beyond the acquire timeout by more than the hang guard; once the proxy accepts again the pool
 * serves on fresh sessions without a restart, and nothing stays acquired.
 */
class ServerGoneAwayIT extends ReliabilitySuite {

	private static final Duration ACQUIRE_TIMEOUT = Duration.ofSeconds(2);
	/** Generous: acquire timeout plus connect and TCP teardown on a loaded machine. A hang guard only. */
	private static final Duration OP_GUARD = ACQUIRE_TIMEOUT.plusSeconds(30);

	@Test
	void outageDuringLoadFailsFastAndThePoolServesAgainAfterwards() {
		try (TcpProxy proxy = PgSessions.proxyToServer();
				PoolUnderTest p = PoolUnderTest.viaProxy(pg, "gone", proxy, b -> b.maxSize(4).acquireTimeout(ACQUIRE_TIMEOUT))) {
			List<Outcome> before = load(20, 8, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(20)));
			assertThat(errors(before)).as("before the outage: %s", describe(before)).isEmpty();
			Set<Integer> oldSessions = new HashSet<>(p.serverPids());
			assertThat(oldSessions).isNotEmpty();

			// Load in flight: 4 callers busy on the server, 8 more waiting for a connection.
			Sinks.One<List<Outcome>> inFlight = Sinks.one();
			Disposable running = Mono.fromCallable(() -> load(12, 12, OP_GUARD,
							i -> i % 2 == 0 ? p.sleepThenPid(Duration.ofSeconds(5)) : p.sleepThenPidInTransaction(Duration.ofSeconds(5))))
					.subscribeOn(Schedulers.boundedElastic())
					.subscribe(inFlight::tryEmitValue, inFlight::tryEmitError);
			try {
				Await.until(() -> p.pg.activeRunning(p.app, "pg_sleep").size() == 4, "4 sessions busy in pg_sleep");

				proxy.refuse(true);
				assertThat(proxy.cutAll()).as("connections cut").isGreaterThanOrEqualTo(4);

				List<Outcome> cut = PoolUnderTest.within(inFlight.asMono(), PoolUnderTest.GUARD);
				assertNoneHung(cut);
				assertThat(pids(cut)).as("nothing can succeed while the server is away: %s", describe(cut)).isEmpty();
				assertConnectionErrors(cut);

				List<Outcome> during = load(24, 8, OP_GUARD, i -> p.pid());
				assertNoneHung(during);
				assertThat(pids(during)).as("nothing can succeed while the server is away: %s", describe(during)).isEmpty();
				assertConnectionErrors(during);
				assertThat(proxy.refusedConnections()).as("the pool tried to reconnect").isPositive();
			}
			finally {
				running.dispose();
			}
			Await.until(() -> p.stats().acquired() == 0, "nothing held during the outage: " + p.stats());
			Await.until(() -> intersectsNot(p.serverPids(), oldSessions), "cut sessions ended on the server");

			proxy.refuse(false);

			Await.until(() -> PoolUnderTest.load(1, 1, OP_GUARD, i -> p.pid()).get(0).ok(), Duration.ofSeconds(60),
					() -> "the pool serves again once the server is back: " + p.stats());
			List<Outcome> after = load(20, 8, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(20)));
			assertNoneHung(after);
			assertThat(errors(after)).as("after the outage: %s", describe(after)).isEmpty();
			assertThat(pids(after)).as("fresh sessions").doesNotContainAnyElementsOf(oldSessions);
			assertThat(p.serverPids()).hasSizeLessThanOrEqualTo(4).doesNotContainAnyElementsOf(oldSessions);
			p.assertNothingLeaked();
		}
	}

	@Test
	void connectionsCutWhileIdleAreNotHandedOutAgainOnceTheServerIsBack() {
		try (TcpProxy proxy = PgSessions.proxyToServer();
				PoolUnderTest p = PoolUnderTest.viaProxy(pg, "gone-idle", proxy, b -> b.maxSize(3).acquireTimeout(ACQUIRE_TIMEOUT))) {
			List<Outcome> before = load(3, 3, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(300)));
			assertThat(errors(before)).isEmpty();
			Set<Integer> oldSessions = new HashSet<>(pids(before));
			Await.until(() -> p.stats().acquired() == 0 && p.pg.count(p.app, "idle") == 3, "3 idle sessions");

			// A blip: every connection is cut, but the server accepts new ones at once.
			assertThat(proxy.cutAll()).isEqualTo(3);
			Await.until(() -> p.serverPids().isEmpty(), "cut sessions ended on the server");

			List<Outcome> outcomes = load(30, 6, OP_GUARD, i -> p.pid());
			assertNoneHung(outcomes);
			assertThat(errors(outcomes)).as("each cut connection fails at most one caller: %s", describe(outcomes))
					.hasSizeLessThanOrEqualTo(3);
			assertConnectionErrors(outcomes);
			assertThat(pids(outcomes)).hasSizeGreaterThanOrEqualTo(27).doesNotContainAnyElementsOf(oldSessions);
			p.assertNothingLeaked();
		}
	}

	private static void assertConnectionErrors(List<Outcome> outcomes) {
		assertThat(errors(outcomes)).as("connection errors or acquire timeouts only").allSatisfy(e ->
				assertThat(PoolUnderTest.isConnectionError(e)).as("connection error: %s", e).isTrue());
	}

	private static boolean intersectsNot(List<Integer> now, Set<Integer> old) {
		return now.stream().noneMatch(old::contains);
	}
}
