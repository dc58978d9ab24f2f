package io.tether.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.context.testing.CountingConnectionFactory;
import io.tether.pool.TetherPool;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * The defects of issue 10, each reduced to a pool of one connection on PostgreSQL: a cancel that lands
 * while a bound body's statement is on its way to the server must leave the connection clean and
 * released, and a release must never trust a session state whose answer is still on its way.
 */
class CancelCleanupIT {

	static final Duration TIMEOUT = Duration.ofSeconds(30);
	static final String ROWS = "select g from generate_series(1, 500) g";

	TetherPool pool;
	CountingConnectionFactory counting;
	Database db;

	@BeforeEach
	void open() {
		pool = TetherPool.create(io.tether.context.testing.Database.postgresUrl() + "?maxSize=1&acquireTimeout=PT10S");
		counting = new CountingConnectionFactory(pool);
		db = Database.builder(counting).name("postgres").build();
	}

	@AfterEach
	void close() {
		try {
			await(() -> pool.stats().acquired() == 0 && counting.open() == 0);
			assertThat(pool.stats().acquired()).as("%s", pool.stats()).isZero();
			assertThat(counting.open()).isZero();
			assertThat(counting.doubleReleases()).isZero();
		}
		finally {
			pool.closeLater().block(TIMEOUT);
		}
	}

	/** Cancels the pipeline {@code cancel} points at as soon as the driver's execution of a statement is subscribed. */
	private void cancelOnExecute(AtomicReference<Sinks.Empty<Void>> cancel) {
		counting.onExecute(ctx -> {
			Sinks.Empty<Void> s = cancel.getAndSet(null);
			if (s != null) {
				s.tryEmitEmpty();
			}
		});
	}

	@Test
	void aTransactionCancelledRightAfterItsBodyStartedReleasesTheOnlyConnection() {
		AtomicReference<Sinks.Empty<Void>> cancel = new AtomicReference<>();
		cancelOnExecute(cancel);
		for (int i = 0; i < 30; i++) {
			Sinks.Empty<Void> trigger = Sinks.empty();
			cancel.set(trigger);
			db.inTransaction(db.sql(ROWS).mapTo(Integer.class).all().collectList())
					.takeUntilOther(trigger.asMono())
					.as(StepVerifier::create).expectComplete().verify(TIMEOUT);
			db.sql("select 1").mapTo(Integer.class).one()
					.as(StepVerifier::create).expectNext(1).expectComplete().verify(TIMEOUT);
		}
	}

	@Test
	void aStreamCancelledBeforeItsFirstRowLeavesTheScopesConnectionUsable() {
		AtomicReference<Sinks.Empty<Void>> cancel = new AtomicReference<>();
		cancelOnExecute(cancel);
		for (int i = 0; i < 30; i++) {
			Sinks.Empty<Void> trigger = Sinks.empty();
			cancel.set(trigger);
			db.inConnection(db.sql(ROWS).mapTo(Integer.class).all().takeUntilOther(trigger.asMono()).then()
							.then(db.sql("select 7").mapTo(Integer.class).one()))
					.as(StepVerifier::create).expectNext(7).expectComplete().verify(TIMEOUT);
		}
	}

	@Test
	void aConnectionScopeCancelledWhileANestedBeginIsInFlightLeavesNoTransactionOpen() {
		Sinks.Empty<Void> beginMayGo = Sinks.empty();
		Sinks.Empty<Void> beginReached = Sinks.empty();
		counting.beforeBegin(() -> Mono.fromRunnable(beginReached::tryEmitEmpty).then(beginMayGo.asMono()));
		AtomicInteger releasedAtRollback = new AtomicInteger(-1);
		counting.beforeRollback(() -> Mono.fromRunnable(() -> releasedAtRollback.compareAndSet(-1, counting.released())));
		db.inConnection(db.inTransaction(db.sql("select 1").mapTo(Integer.class).one()))
				.takeUntilOther(beginReached.asMono())
				.as(StepVerifier::create).expectComplete().verify(TIMEOUT);
		counting.beforeBegin(Mono::empty);
		beginMayGo.tryEmitEmpty();
		await(() -> releasedAtRollback.get() != -1 && pool.stats().acquired() == 0);
		// Released before its BEGIN was answered, the connection went back to the pool with that transaction
		// about to open on it: the rollback must come first, on the connection still held.
		assertThat(releasedAtRollback.get()).as("connections released when the nested BEGIN was rolled back").isZero();
		// The next pipeline on the only connection must not run inside the nested scope's transaction.
		db.sql("select now() = statement_timestamp() and txid_current_if_assigned() is null").mapTo(Boolean.class).one()
				.as(StepVerifier::create).expectNext(true).expectComplete().verify(TIMEOUT);
		db.sql("select now() = statement_timestamp()").mapTo(Boolean.class).one()
				.as(StepVerifier::create).expectNext(true).expectComplete().verify(TIMEOUT);
	}

	static void await(java.util.function.BooleanSupplier condition) {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
			try {
				Thread.sleep(5);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new AssertionError(e);
			}
		}
	}
}
