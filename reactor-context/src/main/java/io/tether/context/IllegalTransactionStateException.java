package io.tether.context;

/**
 * Raised when the transaction state in the subscriber Context does not allow the requested operation:
 * {@link Propagation#MANDATORY} without a transaction, {@link Propagation#NEVER} inside one,
 * {@link ConnectionScope#setRollbackOnly()} outside one, or a statement on a scope that already ended.
 *
 * @since 0.1
 */
public class IllegalTransactionStateException extends TetherException {

	private static final long serialVersionUID = 1L;

	public IllegalTransactionStateException(String message) {
		super(message);
	}
}
