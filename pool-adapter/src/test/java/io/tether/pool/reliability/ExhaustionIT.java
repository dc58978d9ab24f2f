package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.assertNoneHung;
import static io.tether.pool.reliability.PoolUnderTest.describe;
import static io.tether.pool.reliability.PoolUnderTest.errors;
import static io.tether.pool.reliability.PoolUnderTest.load;
import static io.tether.pool.reliability.PoolUnderTest.pids;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.pool.PoolAcquireTimeoutException;
import io.tether.pool.PoolPendingLimitException;
import io.tether.pool.PoolStats;
import io.tether.pool.reliability.PoolUnderTest.Outcome;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Ten times more concurrent callers than connections. Every caller either runs or gets an error that
 * explains itself (the limit and the pool state), none hangs, the server never sees more sessions than
 * {@code maxSize}, and afterwards nothing is acquired or pending.
 */
class ExhaustionIT extends ReliabilitySuite {

	private static final Pattern TIMED_OUT = Pattern.compile(
			"Connection not available: timed out after (\\d+)ms \\(max=(\\d+), acquired=(\\d+), idle=(\\d+), pending=(\\d+)\\)");
	private static final Pattern FAIL_FAST = Pattern.compile(
			"Connection not available: acquireTimeout is 0 \\(fail fast\\) and none is free \\(max=(\\d+), acquired=(\\d+), idle=(\\d+), pending=(\\d+)\\)");
	private static final Duration OP_GUARD = Duration.ofSeconds(45);

	@Test
	void everyCallerRunsOrGetsTheTimeoutThatExplainsItself() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "exhaust", b -> b.maxSize(3).acquireTimeout(Duration.ofMillis(500)))) {
			List<Outcome> outcomes = load(30, 30, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(1500)));

			assertNoneHung(outcomes);
			List<Throwable> errors = errors(outcomes);
			assertThat(pids(outcomes)).as("some callers ran: %s", describe(outcomes)).isNotEmpty();
			assertThat(errors).as("some callers timed out").isNotEmpty();
			assertThat(pids(outcomes).size() + errors.size()).isEqualTo(30);
			assertThat(errors).allSatisfy(e -> {
				assertThat(e).isInstanceOf(PoolAcquireTimeoutException.class);
				PoolStats s = ((PoolAcquireTimeoutException) e).stats();
				Matcher m = TIMED_OUT.matcher(String.valueOf(e.getMessage()));
				assertThat(m.matches()).as("message format: %s", e.getMessage()).isTrue();
				assertThat(m.group(1)).isEqualTo("500");
				assertThat(m.group(2)).isEqualTo("3");
				assertThat(s.maxSize()).isEqualTo(3);
				assertThat(s.name()).isEqualTo(p.app);
				assertThat(List.of(m.group(3), m.group(4), m.group(5))).as("message states the same numbers as stats()")
						.containsExactly(String.valueOf(s.acquired()), String.valueOf(s.idle()), String.valueOf(s.pending()));
				assertThat(s.acquired()).isBetween(0, 3);
			});
			assertThat(new HashSet<>(pids(outcomes))).as("sessions used").hasSizeLessThanOrEqualTo(3);
			assertThat(p.serverPids()).as("sessions on the server").hasSizeLessThanOrEqualTo(3);
			assertThat(p.stats().timeouts()).as("timeouts counted: %s", p.stats()).isEqualTo(errors.size());
			p.assertNothingLeaked();

			List<Outcome> after = load(6, 3, OP_GUARD, i -> p.pid());
			assertThat(errors(after)).as("the pool serves normally afterwards").isEmpty();
			p.assertNothingLeaked();
		}
	}

	@Test
	void failFastWhenTheAcquireTimeoutIsZero() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "failfast", b -> b.maxSize(3).acquireTimeout(Duration.ZERO))) {
			List<Outcome> outcomes = load(30, 30, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(1500)));

			assertNoneHung(outcomes);
			List<Throwable> errors = errors(outcomes);
			assertThat(pids(outcomes)).as("some callers ran: %s", describe(outcomes)).isNotEmpty();
			assertThat(errors).as("the others are refused at once").isNotEmpty();
			assertThat(errors).allSatisfy(e -> {
				assertThat(e).isInstanceOf(PoolAcquireTimeoutException.class);
				Matcher m = FAIL_FAST.matcher(String.valueOf(e.getMessage()));
				assertThat(m.matches()).as("message format: %s", e.getMessage()).isTrue();
				assertThat(m.group(1)).isEqualTo("3");
				assertThat(m.group(4)).as("nobody waits in fail-fast mode").isEqualTo("0");
			});
			assertThat(p.serverPids()).hasSizeLessThanOrEqualTo(3);
			p.assertNothingLeaked();
		}
	}

	@Test
	void callersAboveThePendingLimitAreRejectedAtOnceAndTheRestRun() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "pending",
				b -> b.maxSize(2).maxPendingAcquires(4).acquireTimeout(Duration.ofSeconds(30)))) {
			List<Outcome> outcomes = load(20, 20, OP_GUARD, i -> p.sleepThenPid(Duration.ofMillis(500)));

			assertNoneHung(outcomes);
			List<Throwable> errors = errors(outcomes);
			assertThat(pids(outcomes)).as("2 running + 4 waiting callers at least: %s", describe(outcomes))
					.hasSizeGreaterThanOrEqualTo(6);
			assertThat(errors).as("the rest is rejected").isNotEmpty().allSatisfy(e -> {
				assertThat(e).isInstanceOf(PoolPendingLimitException.class);
				assertThat(((PoolPendingLimitException) e).stats().maxSize()).isEqualTo(2);
			});
			assertThat(p.serverPids()).hasSizeLessThanOrEqualTo(2);
			p.assertNothingLeaked();
		}
	}
}
