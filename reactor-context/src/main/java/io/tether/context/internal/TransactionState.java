package io.tether.context.internal;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Option;
import io.r2dbc.spi.TransactionDefinition;
import io.tether.context.TransactionOptions;
import io.tether.context.UnexpectedRollbackException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A transaction that a Tether scope began on a connection. Shared by every scope that joins it, so a
 * rollback-only mark made anywhere inside reaches the scope that will commit.
 */
public final class TransactionState {

	private final ConnectionHolder holder;
	private final TransactionOptions options;
	private final AtomicInteger savepoints = new AtomicInteger();

	private volatile boolean explicitRollbackOnly;
	private volatile @Nullable Throwable innerFailure;
	private volatile boolean innerCancelled;

	// set once COMMIT or ROLLBACK succeeded: only then may auto-commit be switched back on
	private volatile boolean ended;

	// captured at begin, used to restore the session at the end
	private boolean autoCommitBefore;
	private @Nullable IsolationLevel isolationBefore;

	TransactionState(ConnectionHolder holder, TransactionOptions options) {
		this.holder = holder;
		this.options = options;
	}

	ConnectionHolder holder() {
		return holder;
	}

	/** Marks rollback-only on the user's request: the transaction rolls back and the scope completes normally. */
	public void setRollbackOnly() {
		explicitRollbackOnly = true;
	}

	public boolean isRollbackOnly() {
		return explicitRollbackOnly || innerFailure != null || innerCancelled;
	}

	void markInnerFailure(Throwable t) {
		if (innerFailure == null) {
			innerFailure = t;
		}
	}

	void markInnerCancelled() {
		innerCancelled = true;
	}

	String nextSavepointName() {
		return "tether_sp_" + savepoints.incrementAndGet();
	}

	Mono<Void> begin() {
		return holder.connection().flatMap(c -> {
			Connection raw = ((ScopedConnection) c).unwrap();
			autoCommitBefore = raw.isAutoCommit();
			if (options.isolationLevel() != null) {
				isolationBefore = raw.getTransactionIsolationLevel();
			}
			Definition def = Definition.of(options);
			Mono<Void> begin = Mono.from(def == null ? c.beginTransaction() : c.beginTransaction(def));
			Duration lw = options.lockWaitTimeout();
			if (lw != null) {
				// Not every driver applies LOCK_WAIT_TIMEOUT of the definition (r2dbc-postgresql 1.1 does not).
				begin = begin.then(Mono.from(c.setLockWaitTimeout(lw)));
			}
			Duration st = options.statementTimeout();
			return st == null ? begin : begin.then(Mono.from(c.setStatementTimeout(st)));
		});
	}

	/** Commits, or rolls back if marked rollback-only; then restores the session. */
	Mono<Void> complete() {
		return Mono.defer(() -> {
			if (!isRollbackOnly()) {
				return Cleanup.andAlways(commit(), restore());
			}
			Mono<Void> rollback = rollback();
			if (innerFailure == null && !innerCancelled) {
				return rollback;
			}
			Throwable cause = innerFailure;
			String why = cause != null
					? "a joined inner scope failed (" + cause + ") and its error was handled inside the transaction"
					: "a joined inner scope was cancelled";
			UnexpectedRollbackException e = new UnexpectedRollbackException("Transaction on " + holder.description()
					+ " rolled back instead of committing: " + why + ", which marked the whole transaction "
					+ "rollback-only. Use Propagation.NESTED for inner work that may fail on its own.", cause);
			return rollback.then(Mono.error(e));
		});
	}

	/**
	 * Rolls back; then restores the session. A cleanup step: bounded, and skipped once the connection's
	 * release has started (the release waits for what is in flight and rolls back itself). A rollback that
	 * does not finish in time marks the connection for destruction and fails.
	 */
	Mono<Void> rollback() {
		return Mono.defer(() -> {
			if (holder.isReleasing()) {
				return Mono.empty();
			}
			return Cleanup.andAlways(bounded(command(false)).doOnSuccess(v -> ended = true), bounded(restore()));
		});
	}

	private Mono<Void> bounded(Mono<Void> step) {
		CleanupBound b = holder.bound();
		return b.bound(step, () -> {
			holder.poison();
			return new java.util.concurrent.TimeoutException("A cleanup step of the transaction on "
					+ holder.description() + " did not finish within " + b.timeout().toMillis() + "ms; the connection "
					+ "will be destroyed instead of returned");
		});
	}

	/**
	 * COMMIT. If it fails, the transaction may still be open (the command never reached the server), so
	 * roll it back, the rollback's error suppressed, before {@link #restore()} may switch auto-commit on:
	 * that would commit it.
	 */
	private Mono<Void> commit() {
		return command(true).doOnSuccess(v -> ended = true)
				.onErrorResume(e -> command(false).doOnSuccess(v -> ended = true)
						.onErrorResume(e2 -> {
							e.addSuppressed(e2);
							return Mono.empty();
						})
						.then(Mono.error(e)));
	}

	private Mono<Void> command(boolean commit) {
		return holder.connection().flatMap(c -> Mono.from(commit ? c.commitTransaction() : c.rollbackTransaction()));
	}

	private Mono<Void> restore() {
		return Mono.defer(() -> {
			ScopedConnection c = holder.connectionIfOpen();
			if (c == null || holder.isReleasing()) {
				return Mono.empty();
			}
			Connection raw = c.unwrap();
			Mono<Void> steps = Mono.empty();
			if (options.statementTimeout() != null) {
				steps = steps.then(Mono.from(c.setStatementTimeout(Duration.ZERO)));
			}
			if (options.lockWaitTimeout() != null) {
				steps = steps.then(Mono.from(c.setLockWaitTimeout(Duration.ZERO)));
			}
			IsolationLevel before = isolationBefore;
			if (before != null) {
				steps = steps.then(Mono.defer(() -> before.equals(raw.getTransactionIsolationLevel())
						? Mono.empty() : Mono.from(c.setTransactionIsolationLevel(before))));
			}
			// Switching auto-commit on commits an open transaction (JDBC semantics, kept by r2dbc-h2 and
			// r2dbc-postgresql): after a failed ROLLBACK leave that to the release, which rolls back first.
			return steps.then(Mono.defer(() -> !ended || raw.isAutoCommit() == autoCommitBefore
					? Mono.empty() : Mono.from(c.setAutoCommit(autoCommitBefore))));
		});
	}

	/** {@link TransactionOptions} as an R2DBC {@link TransactionDefinition}; null when all are defaults. */
	static final class Definition implements TransactionDefinition {

		private final TransactionOptions options;

		private Definition(TransactionOptions options) {
			this.options = options;
		}

		static @Nullable Definition of(TransactionOptions o) {
			if (o.isolationLevel() == null && !o.readOnly() && o.name() == null && o.lockWaitTimeout() == null) {
				return null;
			}
			return new Definition(o);
		}

		@Override
		@SuppressWarnings("unchecked")
		public <T> @Nullable T getAttribute(Option<T> option) {
			Object v = null;
			if (option.equals(ISOLATION_LEVEL)) {
				v = options.isolationLevel();
			}
			else if (option.equals(READ_ONLY)) {
				v = options.readOnly() ? Boolean.TRUE : null;
			}
			else if (option.equals(NAME)) {
				v = options.name();
			}
			else if (option.equals(LOCK_WAIT_TIMEOUT)) {
				v = options.lockWaitTimeout();
			}
			return (T) v;
		}

		@Override
		public String toString() {
			return options.toString();
		}
	}
}
