package io.tether.context;

/**
 * How {@link ConnectionScope#inTransaction(TransactionOptions, reactor.core.publisher.Mono)} relates to
 * a transaction that is already active for the same connection factory in the subscriber Context.
 *
 * @since 0.1
 */
public enum Propagation {

	/**
	 * Join the active transaction; begin one if there is none (the default). A joined scope that
	 * fails or is cancelled marks the whole transaction rollback-only, so an outer scope that swallows
	 * the error cannot commit half of the work: its commit rolls back and fails with
	 * {@link UnexpectedRollbackException}.
	 */
	REQUIRED,

	/**
	 * Always begin a new transaction on a second connection, independent of the active one, which is
	 * suspended (hidden from the body) until the new transaction ends. If the factory cannot supply the
	 * second connection within {@link ConnectionScope.Builder#requiresNewAcquireTimeout(java.time.Duration)},
	 * the scope fails with {@link ConnectionUnavailableException} rather than waiting forever on a pool
	 * that the outer transaction itself keeps exhausted.
	 */
	REQUIRES_NEW,

	/**
	 * Run inside a savepoint of the active transaction: an error or cancel rolls back to the savepoint
	 * only, and the error still reaches the caller, which may recover and let the outer transaction
	 * commit. Without an active transaction this behaves like {@link #REQUIRED}.
	 */
	NESTED,

	/** Join the active transaction; fail with {@link IllegalTransactionStateException} if there is none. */
	MANDATORY,

	/** Run without a transaction; fail with {@link IllegalTransactionStateException} if one is active. */
	NEVER
}
