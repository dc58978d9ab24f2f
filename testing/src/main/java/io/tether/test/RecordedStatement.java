package io.tether.test;

/**
 * A statement as a {@link RecordingConnectionFactory} saw it run.
 *
 * @param connectionId  the id of the connection it ran on (1, 2, ... in order of acquisition)
 * @param sql           the SQL text given to the driver (after Tether rewrote named parameters)
 * @param inTransaction whether a transaction was open on the connection when it ran; {@code false} means it
 *                      ran in auto-commit mode, that is, it committed by itself
 * @since 0.1
 */
public record RecordedStatement(int connectionId, String sql, boolean inTransaction) {
}
