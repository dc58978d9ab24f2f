package io.tether.pool;

import static io.tether.pool.VirtualPool.query;
import static io.tether.pool.VirtualPool.release;
import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcBadGrammarException;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class TetherPoolFaultTest {

	private static final String MANY_ROWS = "SELECT X FROM SYSTEM_RANGE(1, 1000)";

	// ------------------------------------------------------------------ validation

	@Test
	void aConnectionFailingValidationIsReplaced() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2).validation(ValidationMode.ON_ACQUIRE_LOCAL))) {
			RecordingListener events = new RecordingListener();
			p.pool.addListener(events);
			release(p.acquire());
			p.factory.connection(1).validateAnswer = false;
			Connection c = p.acquire();
			assertThat(physical(c)).isSameAs(p.factory.connection(2));
			assertThat(p.factory.connection(1).isClosed).isTrue();
			assertThat(p.pool.stats().validationFailures()).isEqualTo(1);
			assertThat(events.of("evicted")).containsExactly("evicted:validation");
			assertThat(events.of("validationFailed")).hasSize(1);
			release(c);
			assertThat(p.pool.stats().acquired()).isZero();
		}
	}

	@Test
	void aValidationErrorCountsAsAFailure() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2).validation(ValidationMode.ON_ACQUIRE_REMOTE)
				.validationQuery("SELECT * FROM missing_table"))) {
			release(p.acquire());
			Connection c = p.acquire();
			assertThat(physical(c)).as("the new connection is not validated").isSameAs(p.factory.connection(2));
			assertThat(p.pool.stats().validationFailures()).isEqualTo(1);
			release(c);
		}
	}

	@Test
	void idleOnlyValidationGoesRemoteAfterTheThreshold() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).validation(ValidationMode.ON_ACQUIRE_IF_IDLE)
				.validationIdleThreshold(Duration.ofSeconds(5)).validationQuery("SELECT 'ping'"))) {
			FaultyConnectionFactory.FaultyConnection physical;
			release(p.acquire());
			physical = p.factory.connection(1);
			p.advance(Duration.ofSeconds(1));
			release(p.acquire());
			assertThat(physical.sql).contains("VALIDATE LOCAL").doesNotContain("SELECT 'ping'");
			p.advance(Duration.ofSeconds(6));
			release(p.acquire());
			assertThat(physical.sql).containsOnlyOnce("SELECT 'ping'");
			p.advance(Duration.ofSeconds(2));
			release(p.acquire());
			assertThat(physical.sql).as("recently validated").containsOnlyOnce("SELECT 'ping'");
		}
	}

	@Test
	void remoteValidationOnEveryReuse() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).validation(ValidationMode.ON_ACQUIRE_REMOTE))) {
			release(p.acquire());
			assertThat(p.factory.connection(1).validations).as("a fresh connection is not validated").hasValue(0);
			release(p.acquire());
			release(p.acquire());
			assertThat(p.factory.connection(1).sql.stream().filter("VALIDATE REMOTE"::equals)).hasSize(2);
		}
	}

	@Test
	void aValidationThatHangsIsCutByTheAcquireTimeoutAndTheConnectionDestroyed() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1).acquireTimeout(Duration.ofSeconds(2))
				.validation(ValidationMode.ON_ACQUIRE_LOCAL))) {
			release(p.acquire());
			p.factory.connection(1).validateNever = true;
			CompletableFuture<Connection> acquisition = p.pool.create().toFuture();
			p.advance(Duration.ofSeconds(2));
			assertThat(acquisition.handle((c, e) -> e).join()).isInstanceOf(PoolAcquireTimeoutException.class)
					.hasMessage("Connection not available: timed out after 2000ms (max=1, acquired=1, idle=0, pending=0)");
			assertThat(p.factory.connection(1).isClosed).isTrue();
			assertThat(p.pool.stats().allocated()).isZero();
			assertThat(p.pool.stats().invalidations()).isEqualTo(1);
			release(p.acquire());
		}
	}

	// ------------------------------------------------------------------ broken connections

	@ParameterizedTest
	@ValueSource(strings = { "non-transient", "08006", "57P01" })
	void aConnectionLevelErrorMakesTheConnectionBeDestroyed(String kind) {
		R2dbcException error = kind.equals("non-transient") ? new R2dbcNonTransientResourceException("connection reset")
				: new R2dbcTransientResourceException("server went away", kind);
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			RecordingListener events = new RecordingListener();
			p.pool.addListener(events);
			Connection c = p.acquire();
			p.factory.connection(1).statementError = error;
			Flux.from(c.createStatement("SELECT 1").execute()).as(StepVerifier::create).verifyErrorMatches(e -> e == error);
			release(c);
			assertThat(p.factory.connection(1).isClosed).isTrue();
			assertThat(p.pool.stats().invalidations()).isEqualTo(1);
			assertThat(events.of("evicted")).containsExactly("evicted:broken");
			Connection next = p.acquire();
			assertThat(physical(next)).isSameAs(p.factory.connection(2));
			release(next);
		}
	}

	@Test
	void aStatementErrorOfAHealthyConnectionDoesNotDestroyIt() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			Connection c = p.acquire();
			Flux.from(c.createStatement("SELEC nonsense").execute()).flatMap(r -> r.getRowsUpdated())
					.as(StepVerifier::create).verifyError(R2dbcBadGrammarException.class);
			Flux.from(c.createStatement("SELECT * FROM missing").execute()).as(StepVerifier::create).verifyError(R2dbcException.class);
			release(c);
			assertThat(p.factory.connection(1).isClosed).isFalse();
			assertThat(p.pool.stats().idle()).isEqualTo(1);
			assertThat(p.pool.stats().invalidations()).isZero();
		}
	}

	@Test
	void closingAfterARowStreamWasCancelledDestroysTheConnection() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			RecordingListener events = new RecordingListener();
			p.pool.addListener(events);
			Connection c = p.acquire();
			Flux.from(c.createStatement(MANY_ROWS).execute()).flatMap(r -> r.map((row, md) -> row.get(0, Long.class)))
					.take(1).as(StepVerifier::create).expectNext(1L).verifyComplete();
			release(c);
			assertThat(p.factory.connection(1).isClosed).isTrue();
			assertThat(events.of("evicted")).containsExactly("evicted:broken");
		}
	}

	@Test
	void closingWhileARowStreamIsStillRunningDestroysTheConnection() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			Connection c = p.acquire();
			BaseSubscriber<Long> oneAtATime = new BaseSubscriber<>() {
				@Override
				protected void hookOnSubscribe(Subscription subscription) {
					request(1);
				}
			};
			Flux.from(c.createStatement(MANY_ROWS).execute()).flatMap(r -> r.map((row, md) -> row.get(0, Long.class)), 1, 1)
					.subscribe(oneAtATime);
			release(c);
			oneAtATime.dispose();
			assertThat(p.factory.connection(1).isClosed).isTrue();
			assertThat(p.pool.stats().invalidations()).isEqualTo(1);
		}
	}

	@Test
	void completelyConsumedResultsKeepTheConnection() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			Connection c = p.acquire();
			assertThat(query(c, MANY_ROWS, Long.class)).hasSize(1000);
			// Mono.from cancels after the first element: a single-result execute and a rows-updated count are complete then
			Mono.from(c.createStatement("CREATE TABLE t(id INT)").execute()).flatMap(r -> Mono.from(r.getRowsUpdated()))
					.as(StepVerifier::create).expectNextCount(1).verifyComplete();
			Mono.from(c.createStatement("INSERT INTO t VALUES (1)").execute()).flatMap(r -> Mono.from(r.getRowsUpdated()))
					.as(StepVerifier::create).expectNext(1L).verifyComplete();
			release(c);
			assertThat(p.factory.connection(1).isClosed).isFalse();
			assertThat(p.pool.stats().idle()).isEqualTo(1);
		}
	}

	@Test
	void aLaterCompletedStatementProvesAnInterruptedConnectionHealthy() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			Connection c = p.acquire();
			Flux.from(c.createStatement(MANY_ROWS).execute()).flatMap(r -> r.map((row, md) -> row.get(0, Long.class)))
					.take(3).as(StepVerifier::create).expectNextCount(3).verifyComplete();
			assertThat(query(c, "SELECT 1", Integer.class)).containsExactly(1);
			release(c);
			assertThat(p.factory.connection(1).isClosed).isFalse();
		}
	}

	@Test
	void anOpenTransactionIsRolledBackOnRelease() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			Connection c = p.acquire();
			query(c, "CREATE TABLE account(id INT)", Integer.class);
			Mono.from(c.beginTransaction()).block();
			Mono.from(c.createStatement("INSERT INTO account VALUES (1)").execute()).flatMap(r -> Mono.from(r.getRowsUpdated())).block();
			assertThat(c.isAutoCommit()).isFalse();
			release(c);
			Connection next = p.acquire();
			assertThat(physical(next)).isSameAs(p.factory.connection(1));
			assertThat(next.isAutoCommit()).isTrue();
			assertThat(query(next, "SELECT COUNT(*) FROM account", Long.class)).containsExactly(0L);
			release(next);
		}
	}

	@Test
	void aFailedReleaseCleanupDestroysTheConnection() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			Connection c = p.acquire();
			Mono.from(c.beginTransaction()).block();
			p.factory.connection(1).rollbackError = new IllegalStateException("rollback failed");
			Mono.from(c.close()).as(StepVerifier::create).verifyComplete();
			assertThat(p.factory.connection(1).isClosed).isTrue();
			assertThat(p.pool.stats().invalidations()).isEqualTo(1);
			assertThat(p.pool.stats().allocated()).isZero();
		}
	}

	@Test
	void aCancelledCloseStillReleases() {
		try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(1))) {
			Connection c = p.acquire();
			Mono.from(c.beginTransaction()).block();
			reactor.core.publisher.Sinks.Empty<Void> go = reactor.core.publisher.Sinks.empty();
			p.factory.connection(1).beforeRollback = go.asMono();
			Mono.from(c.close()).as(StepVerifier::create).expectSubscription().thenCancel().verify();
			assertThat(p.pool.stats().idle()).isZero();
			go.tryEmitEmpty();
			assertThat(p.pool.stats().idle()).isEqualTo(1);
			assertThat(p.pool.stats().acquired()).isZero();
		}
	}

	// ------------------------------------------------------------------ leaks

	@Test
	void aLeakIsReportedOnceAtWarnAndAgainAtInfoWhenItComesBack() {
		String log = capturingStderr(() -> {
			try (VirtualPool p = new VirtualPool(VirtualPool.settings().maxSize(2).leakDetectionThreshold(Duration.ofSeconds(1)))) {
				RecordingListener events = new RecordingListener();
				p.pool.addListener(events);
				Connection c = p.acquire();
				p.advance(Duration.ofMillis(999));
				assertThat(events.of("leakSuspected")).isEmpty();
				p.advance(Duration.ofMillis(1));
				assertThat(events.of("leakSuspected")).containsExactly("leakSuspected:1000");
				assertThat(events.leakStacks.get(0).getStackTrace()).anyMatch(
						e -> e.getMethodName().contains("aLeakIsReportedOnceAtWarnAndAgainAtInfoWhenItComesBack"));
				p.advance(Duration.ofSeconds(10));
				assertThat(events.of("leakSuspected")).hasSize(1);
				assertThat(p.pool.stats().leaks()).isEqualTo(1);
				release(c);
				// released in time: never reported
				Connection quick = p.acquire();
				p.advance(Duration.ofMillis(500));
				release(quick);
				p.advance(Duration.ofSeconds(5));
				assertThat(p.pool.stats().leaks()).isEqualTo(1);
			}
			return null;
		});
		assertThat(log).containsOnlyOnce("WARN io.tether.pool.TetherPool - Connection leak suspected in pool 'tether': "
				+ "connection #1 has been held for 1000ms, longer than leakDetectionThreshold 1000ms; it was acquired at:");
		assertThat(log).contains("java.lang.Throwable: Connection acquired here from pool 'tether'");
		assertThat(log).contains("INFO io.tether.pool.TetherPool - Pool 'tether': connection #1, earlier reported as a "
				+ "suspected leak, was returned after 11000ms");
		assertThat(log.indexOf("Connection leak suspected")).isLessThan(log.indexOf("earlier reported"));
	}

	private static String capturingStderr(java.util.concurrent.Callable<Void> body) {
		PrintStream original = System.err;
		ByteArrayOutputStream buffer = new ByteArrayOutputStream();
		System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
		try {
			body.call();
		}
		catch (Exception e) {
			throw new AssertionError(e);
		}
		finally {
			System.setErr(original);
		}
		String out = buffer.toString(StandardCharsets.UTF_8);
		original.print(out);
		return out;
	}

	private static Connection physical(Connection pooled) {
		return (Connection) ((io.r2dbc.spi.Wrapped<?>) pooled).unwrap();
	}
}
