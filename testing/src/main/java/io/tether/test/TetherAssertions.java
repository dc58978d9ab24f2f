package io.tether.test;

import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Wrapped;
import io.tether.pool.TetherPool;
import io.tether.test.internal.Await;
import io.tether.test.internal.PoolGauges;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.assertj.core.api.AbstractAssert;
import org.jspecify.annotations.Nullable;

/**
 * AssertJ assertions over what a {@link RecordingConnectionFactory} recorded, over one pipeline
 * ({@link PipelineProbe}), and over a pool.
 *
 * <pre>{@code
 * PipelineProbe probe = recorder.probe();
 * StepVerifier.create(probe.mono(orders.placeOrder(cart))).expectNextCount(1).verifyComplete();
 *
 * TetherAssertions.assertThat(probe)
 *     .ranOnOneConnection()              // every statement of the pipeline shared one connection
 *     .acquiredExactly(1)
 *     .hasNoStatementOutsideScope();     // nothing lost the Context (toFuture(), subscribe())
 * TetherAssertions.assertThat(recorder).isFullyReleased().hasNoOpenTransaction();
 * TetherAssertions.assertThatPool(pool).isFullyReturned();
 * }</pre>
 *
 * <p>Checks that depend on releases running in the background (after a cancel) wait for them up to
 * {@link #DEFAULT_WAIT} (or the limit given) before failing; a release that never happens fails whatever the
 * limit. Failures name each connection with the place it was acquired, and carry the acquisition stacks as
 * their cause.
 *
 * @since 0.1
 */
public final class TetherAssertions {

	/** How long the checks of releases wait for releases running in the background: 5 seconds. */
	public static final Duration DEFAULT_WAIT = Duration.ofSeconds(5);

	private TetherAssertions() {
	}

	/** Assertions over everything {@code recorder} recorded since its creation or last reset. */
	public static RecorderAssert assertThat(RecordingConnectionFactory recorder) {
		return new RecorderAssert(recorder);
	}

	/** Assertions over the pipeline {@code probe} watched. */
	public static ProbeAssert assertThat(PipelineProbe probe) {
		return new ProbeAssert(probe);
	}

	/**
	 * Assertions over a pool: a {@link TetherPool}, an r2dbc-pool {@code ConnectionPool}, or a factory that
	 * {@linkplain Wrapped wraps} one (such as a {@link RecordingConnectionFactory} in front of a pool).
	 *
	 * @throws IllegalArgumentException if {@code factory} is no pool and wraps none
	 */
	public static PoolAssert assertThatPool(ConnectionFactory factory) {
		return new PoolAssert(factory);
	}

	/**
	 * Assertions over a {@link RecordingConnectionFactory}.
	 *
	 * @since 0.1
	 */
	public static final class RecorderAssert extends AbstractAssert<RecorderAssert, RecordingConnectionFactory> {

		RecorderAssert(RecordingConnectionFactory actual) {
			super(Objects.requireNonNull(actual, "recorder must not be null"), RecorderAssert.class);
		}

		/** Exactly {@code n} connections were acquired. */
		public RecorderAssert acquiredExactly(int n) {
			int acquired = actual.acquisitions();
			if (acquired != n) {
				failWithMessage("Expected exactly %d connection(s) to be acquired, but %d were:%s", n, acquired,
						Findings.list(actual.connections()));
			}
			return this;
		}

		/** {@link #isFullyReleased(Duration)} waiting up to {@link #DEFAULT_WAIT}. */
		public RecorderAssert isFullyReleased() {
			return isFullyReleased(DEFAULT_WAIT);
		}

		/**
		 * Every connection acquired was released, waiting up to {@code wait} for releases under way, and none was
		 * released twice.
		 */
		public RecorderAssert isFullyReleased(Duration wait) {
			Await.until(() -> actual.acquiredConnections().isEmpty(), wait);
			fail(Findings.stillAcquired(actual.acquiredConnections(), "(waited " + wait.toMillis() + " ms)"));
			fail(Findings.doubleReleases(actual));
			return this;
		}

		/** No connection was released twice. */
		public RecorderAssert hasNoDoubleRelease() {
			fail(Findings.doubleReleases(actual));
			return this;
		}

		/** No transaction is open on any connection, acquired or released. */
		public RecorderAssert hasNoOpenTransaction() {
			fail(Findings.openTransactions(actual.connectionsWithOpenTransaction(), "now"));
			return this;
		}

		/** At least one statement ran, and all on one connection. */
		public RecorderAssert ranOnOneConnection() {
			checkOneConnection(actual.statements(), actual.connections());
			return this;
		}

		/**
		 * Strict mode: every connection was acquired inside a pipeline handed to the kit ({@link Rollback} or a
		 * {@link PipelineProbe}); one acquired without the kit's mark in its Context was acquired by code that lost
		 * the Context, or by a pipeline the test did not wrap.
		 */
		public RecorderAssert hasNoStatementOutsideScope() {
			fail(Findings.outsideScope(actual.connectionsAcquiredOutsideKitPipelines(),
					"outside the pipelines handed to Rollback or a PipelineProbe"));
			return this;
		}

		/** Nothing committed: no {@code COMMIT}, and no statement that may change data ran in auto-commit mode. */
		public RecorderAssert hasNoCommit() {
			fail(Findings.commitsOutsideRollback(actual));
			return this;
		}

		/** Exactly {@code n} transactions were committed. */
		public RecorderAssert committed(int n) {
			if (actual.commits() != n) {
				failWithMessage("Expected %d commit(s), but there were %d: %s", n, actual.commits(), actual.events());
			}
			return this;
		}

		/** Exactly {@code n} transactions were rolled back. */
		public RecorderAssert rolledBack(int n) {
			if (actual.rollbacks() != n) {
				failWithMessage("Expected %d rollback(s), but there were %d: %s", n, actual.rollbacks(), actual.events());
			}
			return this;
		}

		private void fail(@Nullable AssertionError error) {
			if (error != null) {
				throw describe(error, info.descriptionText());
			}
		}

		private void checkOneConnection(List<RecordedStatement> statements, List<RecordedConnection> connections) {
			if (statements.isEmpty()) {
				failWithMessage("Expected statements on one connection, but no statement ran");
			}
			List<Integer> ids = statements.stream().map(RecordedStatement::connectionId).distinct().toList();
			if (ids.size() != 1) {
				List<RecordedConnection> used = connections.stream().filter(c -> ids.contains(c.id())).toList();
				throw describe(Findings.failure("Expected all statements to run on one connection, but they ran on "
						+ ids.size() + ":" + Findings.list(used) + "\nstatements: " + statements, used), info.descriptionText());
			}
		}
	}

	/**
	 * Assertions over the pipeline a {@link PipelineProbe} watched.
	 *
	 * @since 0.1
	 */
	public static final class ProbeAssert extends AbstractAssert<ProbeAssert, PipelineProbe> {

		ProbeAssert(PipelineProbe actual) {
			super(Objects.requireNonNull(actual, "probe must not be null"), ProbeAssert.class);
		}

		/**
		 * At least one statement of the pipeline ran, and all of them on one connection, counting statements of
		 * code that lost the Context while it ran.
		 */
		public ProbeAssert ranOnOneConnection() {
			isSubscribed();
			List<RecordedStatement> statements = actual.statements();
			if (statements.isEmpty()) {
				failWithMessage("Expected the statements of %s to run on one connection, but none ran", actual);
			}
			List<RecordedConnection> used = actual.connections().stream()
					.filter(c -> statements.stream().anyMatch(s -> s.connectionId() == c.id())).toList();
			if (used.size() != 1) {
				throw describe(Findings.failure("Expected all statements of " + actual + " to run on one connection, "
						+ "but they ran on " + used.size() + ":" + Findings.list(used) + "\nstatements: " + statements
						+ "\nWrap the pipeline in inConnection(...) or inTransaction(...) to share one connection.", used),
						info.descriptionText());
			}
			return this;
		}

		/** The pipeline acquired exactly {@code n} connections, counting those of code that lost the Context. */
		public ProbeAssert acquiredExactly(int n) {
			isSubscribed();
			List<RecordedConnection> connections = actual.connections();
			if (connections.size() != n) {
				failWithMessage("Expected %s to acquire exactly %d connection(s), but it acquired %d:%s", actual, n,
						connections.size(), Findings.list(connections));
			}
			return this;
		}

		/**
		 * No connection was acquired outside the pipeline's Context while it ran: nothing in it lost the Context
		 * ({@code toFuture()}, {@code block()} or a hand-made {@code subscribe()} of a statement).
		 */
		public ProbeAssert hasNoStatementOutsideScope() {
			isSubscribed();
			AssertionError error = Findings.outsideScope(actual.connectionsAcquiredOutsideScope(), "while " + actual + " ran");
			if (error != null) {
				throw describe(error, info.descriptionText());
			}
			return this;
		}

		private void isSubscribed() {
			if (actual.subscriptions() == 0) {
				failWithMessage("%s was never subscribed: subscribe the pipeline that probe.mono(...) or probe.flux(...) "
						+ "returned, not the one given to it", actual);
			}
		}
	}

	/**
	 * Assertions over a pool.
	 *
	 * @since 0.1
	 */
	public static final class PoolAssert extends AbstractAssert<PoolAssert, ConnectionFactory> {

		private final ConnectionFactory pool;

		PoolAssert(ConnectionFactory actual) {
			super(Objects.requireNonNull(actual, "factory must not be null"), PoolAssert.class);
			ConnectionFactory found = PoolGauges.find(actual);
			if (found == null) {
				throw new IllegalArgumentException("Not a pool and wraps none (TetherPool or r2dbc-pool ConnectionPool): " + actual);
			}
			this.pool = found;
		}

		/** {@link #isFullyReturned(Duration)} waiting up to {@link #DEFAULT_WAIT}. */
		public PoolAssert isFullyReturned() {
			return isFullyReturned(DEFAULT_WAIT);
		}

		/**
		 * No connection of the pool is checked out and no acquisition is waiting, after waiting up to {@code wait}
		 * for releases under way.
		 */
		public PoolAssert isFullyReturned(Duration wait) {
			if (!Await.until(() -> PoolGauges.acquired(pool) == 0 && PoolGauges.pending(pool) == 0, wait)) {
				failWithMessage("Expected the pool to be fully returned (waited %d ms), but %s", wait.toMillis(), state());
			}
			return this;
		}

		private String state() {
			String owner = pool instanceof TetherPool p ? p.stats().name() : "the r2dbc-pool";
			return owner + " has " + PoolGauges.describe(pool);
		}
	}

	static AssertionError describe(AssertionError error, String description) {
		if (description == null || description.isEmpty()) {
			return error;
		}
		AssertionError described = new AssertionError("[" + description + "] " + error.getMessage(), error.getCause());
		for (Throwable s : error.getSuppressed()) {
			described.addSuppressed(s);
		}
		return described;
	}
}
