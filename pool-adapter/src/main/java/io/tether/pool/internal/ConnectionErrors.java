package io.tether.pool.internal;

import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import java.io.IOException;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Tells errors that mean "this connection is gone or unusable" from errors of a statement on a healthy
 * connection.
 */
final class ConnectionErrors {

	/** PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now. */
	private static final Set<String> SHUTDOWN_STATES = Set.of("57P01", "57P02", "57P03");

	private ConnectionErrors() {
	}

	/**
	 * Whether {@code error} or one of its causes is connection-level. An {@link R2dbcException} that carries
	 * an SQLState is judged by it alone: class {@code 08} (connection exception) or a server shutdown state
	 * ({@code 57P01..57P03}) is connection-level, anything else is the statement's own failure, whatever the
	 * exception class (r2dbc-postgresql reports a cancelled statement, 57014, as an
	 * {@link R2dbcNonTransientResourceException}, and a statement timeout must not cost the session). Without
	 * an SQLState, an {@code R2dbcNonTransientResourceException} or an I/O error of the transport is
	 * connection-level.
	 */
	static boolean isConnectionError(Throwable error) {
		@Nullable Throwable t = error;
		for (int depth = 0; t != null && depth < 10; depth++) {
			if (t instanceof R2dbcException r2dbc && r2dbc.getSqlState() != null && !r2dbc.getSqlState().isEmpty()) {
				String state = r2dbc.getSqlState();
				return state.startsWith("08") || SHUTDOWN_STATES.contains(state);
			}
			if (t instanceof R2dbcNonTransientResourceException || t instanceof IOException) {
				return true;
			}
			if (t.getCause() == t) {
				break;
			}
			t = t.getCause();
		}
		return false;
	}
}
