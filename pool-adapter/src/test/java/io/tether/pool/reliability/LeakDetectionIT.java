package io.tether.pool.reliability;

import static io.tether.pool.reliability.PoolUnderTest.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.tether.context.testing.StandardErrorCapture;
import io.tether.pool.testing.Await;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * A connection held past {@code leakDetectionThreshold} is reported once at WARN (logger
 * {@code io.tether.pool.TetherPool}) with the stack of the code that acquired it, and once more at INFO
 * when it finally comes back. The report changes nothing else: the session stays open on the server while
 * held and serves the next caller afterwards. The log is read from System.err, where the test binding
 * (slf4j-simple) writes.
 */
class LeakDetectionIT extends ReliabilitySuite {

	private static final Duration THRESHOLD = Duration.ofMillis(500);
	private static final Duration OP_GUARD = Duration.ofSeconds(45);
	private static final String LOGGER = "io.tether.pool.TetherPool";

	private StandardErrorCapture err;

	@BeforeEach
	void captureStandardError() {
		err = StandardErrorCapture.start();
	}

	@AfterEach
	void restoreStandardError() {
		err.close();
	}

	@Test
	void aConnectionHeldTooLongIsReportedOnceWithWhereItWasAcquiredAndAgainWhenItReturns() {
		// reactor-context's test-jar brings simplelogger.properties with level WARN; this module's own file
		// (src/test/resources) comes first on the class path and lets the pool's INFO through.
		assertThat(LoggerFactory.getLogger(LOGGER).isInfoEnabled()).as("INFO enabled for %s in the tests' logging", LOGGER).isTrue();
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "leak", b -> b.maxSize(2).leakDetectionThreshold(THRESHOLD))) {
			Connection held = acquireAndForgetToClose(p);
			int pid = within(PoolUnderTest.pidOf(held), OP_GUARD);

			Await.until(() -> !p.leaks.isEmpty(), "leak reported to the listener");
			// Three more thresholds pass: the report must not repeat.
			Await.pause(THRESHOLD.multipliedBy(3));
			assertThat(p.leaks).as("one report per held connection").hasSize(1);
			assertThat(p.leaks.get(0)).as("held at least the threshold").isGreaterThanOrEqualTo(THRESHOLD);
			Throwable acquiredAt = p.leakOrigins.get(0);
			assertThat(acquiredAt).as("where the connection was acquired").isNotNull();
			assertThat(Arrays.stream(acquiredAt.getStackTrace()).map(StackTraceElement::getMethodName))
					.as("the acquiring code is on the captured stack").contains("acquireAndForgetToClose");
			assertThat(p.stats().leaks()).isEqualTo(1);

			List<String> warns = lines("WARN");
			assertThat(warns).as("WARN lines of %s:%n%s", LOGGER, log()).hasSize(1);
			assertThat(logAfter(warns.get(0))).as("the WARN shows the acquiring stack").contains("acquireAndForgetToClose");
			assertThat(pg.states(p.app)).as("the leaked session stays open on the server")
					.containsEntry(pid, "idle");

			int infoBefore = lines("INFO").size();
			PoolUnderTest.complete(Mono.from(held.close()), OP_GUARD);
			Await.until(() -> lines("INFO").size() == infoBefore + 1, "one INFO when the leaked connection returns:\n" + log());
			assertThat(lines("WARN")).as("still one WARN").hasSize(1);
			assertThat(p.leaks).hasSize(1);

			assertThat(within(p.pid(), OP_GUARD)).as("the returned connection serves again").isEqualTo(pid);
			p.assertNothingLeaked();
		}
	}

	@Test
	void connectionsReturnedWithinTheThresholdAreNotReported() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "noleak", b -> b.maxSize(2).leakDetectionThreshold(Duration.ofSeconds(5)))) {
			for (int i = 0; i < 20; i++) {
				within(p.sleepThenPid(Duration.ofMillis(10)), OP_GUARD);
			}
			Await.pause(Duration.ofMillis(500));
			assertThat(p.leaks).isEmpty();
			assertThat(p.stats().leaks()).isZero();
			assertThat(lines("WARN")).isEmpty();
			p.assertNothingLeaked();
		}
	}

	/** Named so the captured acquisition stack can be recognised. */
	private static Connection acquireAndForgetToClose(PoolUnderTest p) {
		return within(Mono.from(p.pool.create()), OP_GUARD);
	}

	private String log() {
		return err.text();
	}

	private List<String> lines(String level) {
		return err.lines(level, LOGGER);
	}

	private String logAfter(String line) {
		return err.from(line);
	}
}
