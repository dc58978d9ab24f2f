package io.tether.pool.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.tether.context.testing.Database;
import io.tether.pool.TetherPool;
import io.tether.pool.testing.Await;
import io.tether.pool.testing.PgSessions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The URL form: Tether's pool options ride in the R2DBC URL next to the driver's own ({@code applicationName}
 * here). The driver must not see Tether's options, and the pool must apply them — checked on the server.
 */
class UrlConfiguredPoolIT extends ReliabilitySuite {

	private static final Duration OP_GUARD = Duration.ofSeconds(45);

	@Test
	void poolOptionsInTheUrlAreAppliedAndDriverOptionsPassedOn() {
		String app = PgSessions.newApplicationName("url");
		String base = Database.postgresUrl();
		String url = base + (base.contains("?") ? "&" : "?") + "applicationName=" + app + "&name=" + app
				+ "&maxSize=2&maxUses=2&acquireTimeout=5s&validation=NEVER";
		TetherPool pool = TetherPool.create(url);
		try {
			assertThat(pool.settings().name()).isEqualTo(app);
			assertThat(pool.settings().maxSize()).isEqualTo(2);
			assertThat(pool.settings().maxUses()).isEqualTo(2);
			assertThat(pool.settings().acquireTimeout()).isEqualTo(Duration.ofSeconds(5));

			List<Integer> pids = new ArrayList<>();
			for (int i = 0; i < 4; i++) {
				pids.add(PoolUnderTest.within(Mono.usingWhen(pool.create(), PoolUnderTest::pidOf, Connection::close), OP_GUARD));
				if (i == 0) {
					assertThat(pg.pids(app)).as("the driver got applicationName from the same URL").containsExactly(pids.get(0));
				}
			}
			assertThat(pids.get(1)).isEqualTo(pids.get(0));
			assertThat(pids.get(2)).as("maxUses=2 from the URL").isNotEqualTo(pids.get(1));
			assertThat(pids.get(3)).isEqualTo(pids.get(2));
			Await.until(() -> !pg.pids(app).contains(pids.get(3)), "the second session closed after its 2nd use");
			assertThat(pool.stats().acquired()).isZero();
		}
		finally {
			PoolUnderTest.complete(pool.close(Duration.ofSeconds(10)), OP_GUARD);
		}
		Await.until(() -> pg.pids(app).isEmpty(), "no session left after close");
	}
}
