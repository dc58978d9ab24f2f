package io.tether.pool.reliability;

import io.tether.pool.testing.PgSessions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * What every reliability suite starts from: an administrative session on the PostgreSQL server ({@link #pg}),
 * through which the tests read {@code pg_stat_activity} and kill backends, open for the whole class.
 */
abstract class ReliabilitySuite {

	static PgSessions pg;

	@BeforeAll
	static void openAdmin() {
		pg = PgSessions.open();
	}

	@AfterAll
	static void closeAdmin() {
		pg.close();
	}
}
