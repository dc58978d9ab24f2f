package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.errors;
import static io.tether.pool.reliability.PoolUnderTest.load;
import static io.tether.pool.reliability.PoolUnderTest.pids;
import static io.tether.pool.reliability.PoolUnderTest.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.tether.pool.ValidationMode;
import io.tether.pool.reliability.PoolUnderTest.Outcome;
import io.tether.pool.testing.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The settings that decide when a physical connection ends — {@code maxUses}, {@code maxLifetime},
 * {@code maxIdle}, {@code maxIdleTime} — and the ones that keep connections ready — {@code minIdle},
 * {@code keepAliveInterval} — each checked from the server's side: which backend PIDs exist in
 * {@code pg_stat_activity}, and which one served each caller.
 */
class ConnectionLifecycleIT extends ReliabilitySuite {

	private static final Duration OP_GUARD = Duration.ofSeconds(45);
	/** Background housekeeping runs on its own schedule; this only bounds how long a test waits for it. */
	private static final Duration BACKGROUND = Duration.ofSeconds(60);

	@Test
	void maxUsesClosesThePhysicalConnectionAfterItsNthRelease() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "maxuses", b -> b.maxSize(1).maxUses(3))) {
			List<Integer> seen = new ArrayList<>();
			for (int i = 0; i < 9; i++) {
				int pid = within(p.pid(), OP_GUARD);
				seen.add(pid);
				if (i % 3 == 2) {
					Await.until(() -> !p.serverPids().contains(pid), "session " + pid + " closed after its 3rd use");
				}
				else {
					assertThat(p.serverPids()).as("session still open before its 3rd use").containsExactly(pid);
				}
			}
			assertThat(seen.subList(0, 3)).containsOnly(seen.get(0));
			assertThat(seen.subList(3, 6)).containsOnly(seen.get(3));
			assertThat(seen.subList(6, 9)).containsOnly(seen.get(6));
			assertThat(new HashSet<>(seen)).as("three physical connections, three uses each: %s", seen).hasSize(3);
			assertThat(p.evictions).as("evictions reported").filteredOn("maxUses"::equals).hasSize(3);
			p.assertNothingLeaked();
		}
	}

	@Test
	void maxLifetimeNeverClosesAHeldConnectionButReplacesItOnceReturned() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "lifetime",
				b -> b.maxSize(1).maxLifetime(Duration.ofSeconds(1)).maxLifetimeJitter(Duration.ZERO))) {
			Connection held = within(Mono.from(p.pool.create()), OP_GUARD);
			int first = within(PoolUnderTest.pidOf(held), OP_GUARD);
			Await.pause(Duration.ofMillis(1500));
			assertThat(within(PoolUnderTest.pidOf(held), OP_GUARD)).as("a held connection outlives maxLifetime").isEqualTo(first);
			assertThat(p.serverPids()).containsExactly(first);
			PoolUnderTest.complete(Mono.from(held.close()), OP_GUARD);

			int second = within(p.pid(), OP_GUARD);
			assertThat(second).as("the expired connection is not handed out again").isNotEqualTo(first);
			Await.until(() -> !p.serverPids().contains(first), "expired session closed on the server");
			assertThat(p.evictions).contains("maxLifetime");
			p.assertNothingLeaked();
		}
	}

	@Test
	void idleConnectionsPastMaxLifetimeAreReplacedInTheBackgroundToKeepMinIdle() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "lifetime-bg",
				b -> b.maxSize(2).minIdle(1).maxLifetime(Duration.ofSeconds(2)).maxLifetimeJitter(Duration.ZERO))) {
			int first = within(p.pid(), OP_GUARD);
			// No caller from here on: only housekeeping may close the expired session and open its successor.
			Await.until(() -> {
				List<Integer> now = p.serverPids();
				return !now.contains(first) && !now.isEmpty();
			}, BACKGROUND, () -> "expired idle session " + first + " replaced in the background: " + pg.states(p.app));
			assertThat(p.evictions).contains("maxLifetime");
			List<Integer> successors = p.serverPids();
			int next = within(p.pid(), OP_GUARD);
			assertThat(next).isNotEqualTo(first);
			assertThat(successors).doesNotContain(first);
			p.assertNothingLeaked();
		}
	}

	@Test
	void maxIdleTimeClosesIdleConnectionsInTheBackground() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "idletime", b -> b.maxSize(3).maxIdleTime(Duration.ofSeconds(1)))) {
			List<Outcome> burst = load(3, 3, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(300)));
			assertThat(errors(burst)).isEmpty();
			assertThat(new HashSet<>(pids(burst))).hasSize(3);
			Await.until(() -> p.serverPids().isEmpty(), BACKGROUND,
					() -> "idle sessions closed after maxIdleTime without any caller: " + pg.states(p.app));
			assertThat(p.evictions).filteredOn("maxIdleTime"::equals).hasSize(3);
			assertThat(p.stats().idle()).isZero();
			p.assertNothingLeaked();
		}
	}

	@Test
	void maxIdleCapsTheIdleSessionsOnTheServer() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "maxidle", b -> b.maxSize(6).maxIdle(2))) {
			for (int round = 0; round < 2; round++) {
				List<Outcome> burst = load(6, 6, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(500)));
				assertThat(errors(burst)).isEmpty();
				Set<Integer> used = new HashSet<>(pids(burst));
				assertThat(used).as("6 concurrent holders need 6 sessions").hasSize(6);
				Await.until(() -> p.serverPids().size() == 2 && p.stats().acquired() == 0, Await.DEFAULT,
						() -> "idle sessions above maxIdle=2 closed: " + pg.states(p.app) + " " + p.stats());
				assertThat(p.pg.count(p.app, "idle")).isEqualTo(2);
				assertThat(used).containsAll(p.serverPids());
				assertThat(p.stats().idle()).isEqualTo(2);
				assertThat(p.stats().allocated()).isEqualTo(2);
			}
			assertThat(p.evictions).filteredOn("maxIdle"::equals).hasSize(8);
			p.assertNothingLeaked();
		}
	}

	@Test
	void minIdleIsReachedWithoutCallersAndKeepAliveReplacesKilledIdleSessions() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "minidle",
				b -> b.maxSize(4).minIdle(2).keepAliveInterval(Duration.ofMillis(500)).validation(ValidationMode.NEVER))) {
			Await.until(() -> p.pg.count(p.app, "idle") == 2, BACKGROUND,
					() -> "minIdle=2 sessions opened in the background: " + pg.states(p.app));
			List<Integer> first = p.serverPids();
			assertThat(first).hasSize(2);

			assertThat(pg.terminate(first)).isEqualTo(2);
			// Keep-alive finds the dead idle sessions, the pool drops them and tops up to minIdle again.
			Await.until(() -> {
				List<Integer> now = p.serverPids();
				return now.size() == 2 && now.stream().noneMatch(first::contains);
			}, BACKGROUND, () -> "killed idle sessions replaced without callers: " + pg.states(p.app) + " " + p.stats());

			// Validation is NEVER: only keep-alive could have spared callers the dead sessions.
			List<Outcome> outcomes = load(8, 2, OP_GUARD, i -> p.pid());
			assertThat(errors(outcomes)).isEmpty();
			assertThat(pids(outcomes)).doesNotContainAnyElementsOf(first);
			p.assertNothingLeaked();
		}
	}
}
