package io.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * No connection can be had, and trying again will not change that until the configuration or the
 * application does: the database named in the URL does not exist (SQLState {@code 3D000}; H2 90013, 90146),
 * or the {@link Database} or its pool is closed. Compare {@link ConnectionFailureException}, the transient
 * case (a refused or lost connection, a pool that is exhausted for now), and {@link PermissionDeniedException},
 * which is also what bad credentials (SQLState class {@code 28}) are reported as.
 *
 * @since 0.1
 */
public class NonTransientConnectionException extends NonTransientDataAccessException {

	private static final long serialVersionUID = 1L;

	public NonTransientConnectionException(String message, @Nullable Throwable cause, @Nullable String sqlState,
			int errorCode, @Nullable String sql) {
		super(message, cause, sqlState, errorCode, sql);
	}
}
