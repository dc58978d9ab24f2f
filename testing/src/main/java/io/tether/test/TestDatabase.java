package io.tether.test;

/**
 * The database a {@link TetherTest} runs on.
 *
 * @since 0.1
 */
public enum TestDatabase {

	/**
	 * Embedded H2 in memory, a new database for each test class ({@code r2dbc-h2} and {@code h2}, which the kit
	 * brings). Nothing to install.
	 */
	H2,

	/**
	 * The PostgreSQL server at the R2DBC URL in the environment variable {@code TETHER_PG_URL}, else in the system
	 * property {@code tether.pg.url}, else {@code r2dbc:postgresql://postgres@127.0.0.1:5432/test}. Needs
	 * {@code org.postgresql:r2dbc-postgresql} on the test classpath. The database is shared: give tables names
	 * unique to the test class, and drop them at the top of the schema script. A test that cannot reach the
	 * server fails; it is never skipped.
	 */
	POSTGRES;

	/** The R2DBC URL of {@link #POSTGRES}, as described there. */
	public static String postgresUrl() {
		String url = System.getenv("TETHER_PG_URL");
		if (url == null || url.isBlank()) {
			url = System.getProperty("tether.pg.url", "r2dbc:postgresql://postgres@127.0.0.1:5432/test");
		}
		return url;
	}
}
