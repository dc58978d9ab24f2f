package io.tether.test;

/**
 * One thing that happened to a connection of a {@link RecordingConnectionFactory}, in the order they happened.
 *
 * @param connectionId the id of the connection (1, 2, ... in order of acquisition)
 * @param kind         what happened
 * @param detail       the SQL of a statement, the name of a savepoint, or empty
 * @since 0.1
 */
public record RecordedEvent(int connectionId, Kind kind, String detail) {

	/** What happened. Transaction events are recorded when they succeed; statements when they are subscribed. */
	public enum Kind {
		/** The connection was handed out by {@code create()}. */
		ACQUIRE,
		/** {@code close()} completed: the connection went back. */
		RELEASE,
		/** {@code close()} was called again on a connection already closed; not passed to the delegate. */
		DOUBLE_RELEASE,
		/** {@code beginTransaction()} completed. */
		BEGIN,
		/** {@code commitTransaction()} completed. */
		COMMIT,
		/** {@code rollbackTransaction()} completed. */
		ROLLBACK,
		/** {@code createSavepoint(name)} completed. */
		SAVEPOINT,
		/** {@code releaseSavepoint(name)} completed. */
		RELEASE_SAVEPOINT,
		/** {@code rollbackTransactionToSavepoint(name)} completed. */
		ROLLBACK_TO_SAVEPOINT,
		/** A statement or batch started to run. */
		STATEMENT
	}

	@Override
	public String toString() {
		return "#" + connectionId + " " + kind + (detail.isEmpty() ? "" : " " + detail);
	}
}
