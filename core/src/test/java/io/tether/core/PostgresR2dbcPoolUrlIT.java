package io.tether.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * {@code Database.connect("r2dbc:pool:postgresql://...")} on the server: r2dbc-pool opens {@code initialSize}
 * sessions, the driver gets its own options from the same URL ({@code applicationName}), statements and
 * transactions run, and closing the database closes every session.
 */
class PostgresR2dbcPoolUrlIT {

	static final Duration TIMEOUT = Duration.ofSeconds(30);

	@Test
	void anR2dbcPoolUrlOpensR2dbcPoolSessionsThatCloseWithTheDatabase() {
		String app = "tether-poolurl-" + UUID.randomUUID().toString().substring(0, 8);
		String base = io.tether.context.testing.Database.postgresUrl();
		String url = base.replaceFirst("^r2dbc:postgresql:", "r2dbc:pool:postgresql:")
				+ (base.contains("?") ? "&" : "?") + "applicationName=" + app + "&initialSize=2&maxSize=2&maxAcquireTime=PT10S";
		Database admin = Database.of(ConnectionFactories.get(base));
		Database db = Database.connect(url);
		try {
			assertThat(db.connectionFactory()).isInstanceOf(ConnectionPool.class);
			db.inTransaction(db.sql("select :a::int + :b::int").bind("a", 40).bind("b", 2).mapTo(Integer.class).one())
					.as(StepVerifier::create).expectNext(42).expectComplete().verify(TIMEOUT);
			assertThat(sessions(admin, app)).as("initialSize=2 sessions with the driver's applicationName").isEqualTo(2);
			PoolMetrics metrics = ((ConnectionPool) db.connectionFactory()).getMetrics().orElseThrow();
			assertThat(metrics.acquiredSize()).isZero();
			assertThat(metrics.getMaxAllocatedSize()).isEqualTo(2);
		}
		finally {
			db.close();
		}
		long deadline = System.nanoTime() + TIMEOUT.toNanos();
		while (sessions(admin, app) != 0 && System.nanoTime() < deadline) {
			Thread.onSpinWait();
		}
		assertThat(sessions(admin, app)).as("sessions left after the database closed its pool").isZero();
	}

	private static long sessions(Database admin, String app) {
		Long n = admin.sql("select count(*) from pg_stat_activity where application_name = :app").bind("app", app)
				.mapTo(Long.class).one().block(TIMEOUT);
		return n == null ? -1 : n;
	}
}
