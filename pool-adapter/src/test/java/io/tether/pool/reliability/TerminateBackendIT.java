package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.assertNoneHung;
import static io.tether.pool.reliability.PoolUnderTest.describe;
import static io.tether.pool.reliability.PoolUnderTest.errors;
import static io.tether.pool.reliability.PoolUnderTest.intersection;
import static io.tether.pool.reliability.PoolUnderTest.load;
import static io.tether.pool.reliability.PoolUnderTest.pids;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.R2dbcException;
import io.tether.pool.PoolAcquireTimeoutException;
import io.tether.pool.ValidationMode;
import io.tether.pool.testing.Await;
import io.tether.pool.reliability.PoolUnderTest.Outcome;
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
 * {@code pg_terminate_backend} against a pool in use: the server kills idle and busy sessions, as an
 * administrator, a failover or an idle-session killer would. Operations that were using (or are handed) a
 * killed session fail once with an R2DBC error, never hang; the pool never hands the same dead session out
 * twice, and the following operations run on fresh sessions (new backend PIDs).
 */
class TerminateBackendIT extends ReliabilitySuite {

	private static final Duration OP_GUARD = Duration.ofSeconds(45);

	@Test
	void terminatedIdleConnectionsFailAtMostOnceEachAndAreReplaced() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "term-idle", b -> b.maxSize(4).validation(ValidationMode.NEVER))) {
			Set<Integer> killed = warmUpAndTerminate(p, 4);

			List<Outcome> outcomes = load(40, 8, OP_GUARD, i -> p.pid());

			assertNoneHung(outcomes);
			List<Throwable> errors = errors(outcomes);
			assertThat(errors).as("a killed session may fail the one operation that gets it, no more: %s", describe(outcomes))
					.hasSizeLessThanOrEqualTo(killed.size());
			assertThat(errors).as("failures are R2DBC errors, not acquire timeouts")
					.allSatisfy(e -> assertThat(e).isInstanceOf(R2dbcException.class).isNotInstanceOf(PoolAcquireTimeoutException.class));
			assertThat(intersection(pids(outcomes), killed)).as("operations that succeeded on a killed session").isEmpty();

			assertRecovered(p, killed);
			p.assertNothingLeaked();
		}
	}

	@Test
	void remoteValidationHidesTerminatedIdleConnectionsFromCallers() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "term-valid",
				b -> b.maxSize(4).validation(ValidationMode.ON_ACQUIRE_REMOTE))) {
			Set<Integer> killed = warmUpAndTerminate(p, 4);

			List<Outcome> outcomes = load(40, 8, OP_GUARD, i -> p.pid());

			assertNoneHung(outcomes);
			assertThat(errors(outcomes)).as("with remote validation on acquire no caller sees a killed session: %s",
					describe(outcomes)).isEmpty();
			assertThat(intersection(pids(outcomes), killed)).isEmpty();
			assertThat(p.stats().validationFailures()).as("killed sessions caught by validation: %s", p.stats()).isPositive();
			p.assertNothingLeaked();
		}
	}

	@Test
	void terminatedBusyConnectionsFailTheirStatementAndWaitingCallersGetFreshOnes() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "term-busy", b -> b.maxSize(4))) {
			// 12 callers on 4 connections: 4 run a long statement (half of them inside a transaction), 8 wait.
			Sinks.One<List<Outcome>> done = Sinks.one();
			Disposable running = Mono.fromCallable(() -> load(12, 12, OP_GUARD,
							i -> i % 2 == 0 ? p.sleepThenPid(Duration.ofSeconds(3)) : p.sleepThenPidInTransaction(Duration.ofSeconds(3))))
					.subscribeOn(Schedulers.boundedElastic())
					.subscribe(done::tryEmitValue, done::tryEmitError);
			try {
				Await.until(() -> p.pg.activeRunning(p.app, "pg_sleep").size() == 4, "4 sessions busy in pg_sleep: " + p.app);
				List<Integer> busy = p.pg.activeRunning(p.app, "pg_sleep");
				assertThat(pg.terminate(busy)).isEqualTo(4);

				List<Outcome> outcomes = PoolUnderTest.within(done.asMono(), PoolUnderTest.GUARD);

				assertNoneHung(outcomes);
				List<Throwable> errors = errors(outcomes);
				assertThat(errors).as("exactly the 4 statements on killed sessions fail: %s", describe(outcomes)).hasSize(4);
				assertThat(errors).allSatisfy(e -> assertThat(e).isInstanceOf(R2dbcException.class)
						.isNotInstanceOf(PoolAcquireTimeoutException.class));
				assertThat(pids(outcomes)).as("the 8 waiting callers ran on fresh sessions").hasSize(8)
						.doesNotContainAnyElementsOf(busy);
				assertRecovered(p, new HashSet<>(busy));
				p.assertNothingLeaked();
			}
			finally {
				running.dispose();
			}
		}
	}

	@Test
	void aCancelledStatementFailsAloneAndTheSessionIsKept() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "cancel-stmt", b -> b.maxSize(1))) {
			int pid = PoolUnderTest.within(p.pid(), OP_GUARD);
			Sinks.One<List<Outcome>> done = Sinks.one();
			Disposable running = Mono.fromCallable(() -> load(1, 1, OP_GUARD, i -> p.sleepThenPidInTransaction(Duration.ofSeconds(20))))
					.subscribeOn(Schedulers.boundedElastic())
					.subscribe(done::tryEmitValue, done::tryEmitError);
			try {
				Await.until(() -> p.pg.activeRunning(p.app, "pg_sleep").equals(List.of(pid)), "the statement runs on " + pid);
				assertThat(pg.cancel(pid)).isTrue();

				List<Outcome> outcomes = PoolUnderTest.within(done.asMono(), PoolUnderTest.GUARD);
				assertNoneHung(outcomes);
				assertThat(errors(outcomes)).as("the cancelled statement fails with the server's error: %s", describe(outcomes))
						.singleElement()
						.satisfies(e -> assertThat(e).isInstanceOf(R2dbcException.class).isNotInstanceOf(PoolAcquireTimeoutException.class));

				assertThat(PoolUnderTest.within(p.pid(), OP_GUARD))
						.as("a statement-level error (%s) does not cost the session; evictions %s, %s", errors(outcomes), p.evictions, p.stats())
						.isEqualTo(pid);
				p.assertNothingLeaked();
			}
			finally {
				running.dispose();
			}
		}
	}

	/** Makes the pool open {@code n} sessions (n concurrent holders), waits until they are idle, kills them all. */
	private static Set<Integer> warmUpAndTerminate(PoolUnderTest p, int n) {
		List<Outcome> warm = load(n, n, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(300)));
		assertThat(errors(warm)).isEmpty();
		Set<Integer> pids = new HashSet<>(pids(warm));
		assertThat(pids).as("%d concurrent holders need %d sessions", n, n).hasSize(n);
		Await.until(() -> p.pg.count(p.app, "idle") == n && p.stats().acquired() == 0,
				"sessions idle in the pool: " + p.app);
		assertThat(p.serverPids()).containsExactlyInAnyOrderElementsOf(pids);
		assertThat(pg.terminate(pids)).isEqualTo(n);
		Await.until(() -> p.serverPids().isEmpty(), "killed sessions gone from pg_stat_activity");
		return pids;
	}

	/** After the kill, a full round of operations succeeds, none on a killed session, and the server agrees. */
	private static void assertRecovered(PoolUnderTest p, Set<Integer> killed) {
		List<Outcome> after = load(16, 8, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(50)));
		assertNoneHung(after);
		assertThat(errors(after)).as("operations after recovery: %s", describe(after)).isEmpty();
		assertThat(pids(after)).doesNotContainAnyElementsOf(killed);
		assertThat(p.serverPids()).as("server sessions of the pool").doesNotContainAnyElementsOf(killed)
				.hasSizeLessThanOrEqualTo(p.stats().maxSize());
	}
}
