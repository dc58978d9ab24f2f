package io.tether.test;

/**
 * The pool a {@link TetherTest} puts between its database and the {@link RecordingConnectionFactory}: the same
 * checks run after each test with either.
 *
 * @since 0.1
 */
public enum TestPool {

	/** Tether's own {@link io.tether.pool.TetherPool} (what {@code Database.connect} builds for a driver URL). */
	TETHER,

	/**
	 * r2dbc-pool's {@link io.r2dbc.pool.ConnectionPool} (what {@code Database.connect} builds for an
	 * {@code r2dbc:pool:} URL, and what applications often configure themselves and hand to {@code Database.of}).
	 * Tests get it as a {@code ConnectionPool} parameter or field; none gets a {@code TetherPool}.
	 */
	R2DBC_POOL
}
