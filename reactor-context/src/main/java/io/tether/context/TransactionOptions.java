package io.tether.context;

import io.r2dbc.spi.IsolationLevel;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Immutable settings of one transaction scope: its {@link Propagation}, and for a transaction that the
 * scope begins itself, the isolation level, read-only flag, name, lock-wait timeout and statement
 * timeout. Unset values leave the driver's and the server's defaults alone.
 *
 * <p>Isolation level, read-only, name and lock-wait timeout are handed to the driver as an R2DBC
 * {@link io.r2dbc.spi.TransactionDefinition} when the transaction begins. Because not every driver reads
 * the lock-wait timeout from there (r2dbc-postgresql 1.1 does not), it is also set with
 * {@link io.r2dbc.spi.Connection#setLockWaitTimeout(Duration)} right after {@code BEGIN}; the statement
 * timeout is set with {@link io.r2dbc.spi.Connection#setStatementTimeout(Duration)}. Both are reset to
 * "no timeout" when the transaction ends, so a pooled connection does not carry them to its next user.
 * Settings other than the propagation are ignored when the scope joins an existing transaction or opens a
 * savepoint, as they cannot change a transaction already under way.
 *
 * <p>Drivers differ in what they honour: r2dbc-postgresql applies all of these; r2dbc-h2 1.1 ignores
 * read-only and both timeouts, and reports but does not apply the isolation level.
 * {@code H2TransactionContractTest} and {@code PostgresTransactionContractIT} pin down both behaviours.
 *
 * <pre>{@code
 * TransactionOptions opts = TransactionOptions.builder()
 *     .isolationLevel(IsolationLevel.SERIALIZABLE)
 *     .readOnly(true)
 *     .statementTimeout(Duration.ofSeconds(5))
 *     .build();
 * }</pre>
 *
 * @since 0.1
 */
public final class TransactionOptions {

	private static final TransactionOptions DEFAULTS = new Builder().build();

	private final Propagation propagation;
	private final @Nullable IsolationLevel isolationLevel;
	private final boolean readOnly;
	private final @Nullable String name;
	private final @Nullable Duration lockWaitTimeout;
	private final @Nullable Duration statementTimeout;

	private TransactionOptions(Builder b) {
		this.propagation = b.propagation;
		this.isolationLevel = b.isolationLevel;
		this.readOnly = b.readOnly;
		this.name = b.name;
		this.lockWaitTimeout = b.lockWaitTimeout;
		this.statementTimeout = b.statementTimeout;
	}

	/** {@link Propagation#REQUIRED}, driver defaults for everything else. */
	public static TransactionOptions defaults() {
		return DEFAULTS;
	}

	/** The defaults with the given propagation. */
	public static TransactionOptions of(Propagation propagation) {
		return builder().propagation(propagation).build();
	}

	public static Builder builder() {
		return new Builder();
	}

	/** A builder that starts from these options. */
	public Builder toBuilder() {
		Builder b = new Builder();
		b.propagation = propagation;
		b.isolationLevel = isolationLevel;
		b.readOnly = readOnly;
		b.name = name;
		b.lockWaitTimeout = lockWaitTimeout;
		b.statementTimeout = statementTimeout;
		return b;
	}

	public Propagation propagation() {
		return propagation;
	}

	public @Nullable IsolationLevel isolationLevel() {
		return isolationLevel;
	}

	public boolean readOnly() {
		return readOnly;
	}

	public @Nullable String name() {
		return name;
	}

	public @Nullable Duration lockWaitTimeout() {
		return lockWaitTimeout;
	}

	public @Nullable Duration statementTimeout() {
		return statementTimeout;
	}

	@Override
	public boolean equals(@Nullable Object o) {
		if (this == o) {
			return true;
		}
		if (!(o instanceof TransactionOptions)) {
			return false;
		}
		TransactionOptions that = (TransactionOptions) o;
		return readOnly == that.readOnly && propagation == that.propagation
				&& Objects.equals(isolationLevel, that.isolationLevel) && Objects.equals(name, that.name)
				&& Objects.equals(lockWaitTimeout, that.lockWaitTimeout)
				&& Objects.equals(statementTimeout, that.statementTimeout);
	}

	@Override
	public int hashCode() {
		return Objects.hash(propagation, isolationLevel, readOnly, name, lockWaitTimeout, statementTimeout);
	}

	@Override
	public String toString() {
		StringBuilder sb = new StringBuilder("TransactionOptions{propagation=").append(propagation);
		if (isolationLevel != null) {
			sb.append(", isolationLevel=").append(isolationLevel.asSql());
		}
		if (readOnly) {
			sb.append(", readOnly");
		}
		if (name != null) {
			sb.append(", name=").append(name);
		}
		if (lockWaitTimeout != null) {
			sb.append(", lockWaitTimeout=").append(lockWaitTimeout.toMillis()).append("ms");
		}
		if (statementTimeout != null) {
			sb.append(", statementTimeout=").append(statementTimeout.toMillis()).append("ms");
		}
		return sb.append('}').toString();
	}

	/** Builds {@link TransactionOptions}; every setter checks its argument at once. */
	public static final class Builder {

		private Propagation propagation = Propagation.REQUIRED;
		private @Nullable IsolationLevel isolationLevel;
		private boolean readOnly;
		private @Nullable String name;
		private @Nullable Duration lockWaitTimeout;
		private @Nullable Duration statementTimeout;

		private Builder() {
		}

		public Builder propagation(Propagation propagation) {
			this.propagation = Objects.requireNonNull(propagation, "propagation must not be null");
			return this;
		}

		/** The isolation level of a transaction this scope begins; {@code null} keeps the driver default. */
		public Builder isolationLevel(@Nullable IsolationLevel isolationLevel) {
			this.isolationLevel = isolationLevel;
			return this;
		}

		public Builder readOnly(boolean readOnly) {
			this.readOnly = readOnly;
			return this;
		}

		/** A transaction name, for drivers that support one; {@code null} for none. */
		public Builder name(@Nullable String name) {
			if (name != null && name.isBlank()) {
				throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
			}
			this.name = name;
			return this;
		}

		/**
		 * How long a statement of the transaction waits for a lock before failing; {@code null} keeps the
		 * server default, {@link Duration#ZERO} means do not wait at all.
		 */
		public Builder lockWaitTimeout(@Nullable Duration lockWaitTimeout) {
			if (lockWaitTimeout != null && lockWaitTimeout.isNegative()) {
				throw new IllegalArgumentException("lockWaitTimeout must be >= 0, was " + lockWaitTimeout);
			}
			this.lockWaitTimeout = lockWaitTimeout;
			return this;
		}

		/**
		 * How long any one statement of the transaction may run; {@code null} keeps the session setting.
		 * Reset to no timeout when the transaction ends.
		 */
		public Builder statementTimeout(@Nullable Duration statementTimeout) {
			if (statementTimeout != null && (statementTimeout.isNegative() || statementTimeout.isZero())) {
				throw new IllegalArgumentException("statementTimeout must be > 0, was " + statementTimeout);
			}
			this.statementTimeout = statementTimeout;
			return this;
		}

		public TransactionOptions build() {
			return new TransactionOptions(this);
		}
	}
}
