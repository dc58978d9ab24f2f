package io.tether.context;

/**
 * Signalled by the outermost transaction scope when it was about to commit but had to roll back
 * because a joined inner scope failed or was cancelled and marked the transaction rollback-only. The
 * cause is the inner failure, when there was one. The transaction is rolled back when this is
 * signalled.
 *
 * @since 0.1
 */
public class UnexpectedRollbackException extends TetherException {

	private static final long serialVersionUID = 1L;

	public UnexpectedRollbackException(String message, Throwable cause) {
		super(message, cause);
	}

	public UnexpectedRollbackException(String message) {
		super(message);
	}
}
