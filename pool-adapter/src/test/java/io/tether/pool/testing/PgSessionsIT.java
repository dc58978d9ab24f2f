package io.tether.pool.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The fixture itself, on plain driver connections: it must see exactly the sessions it is asked about. */
class PgSessionsIT {

	private static final Duration GUARD = Duration.ofSeconds(30);

	private static PgSessions pg;

	@BeforeAll
	static void openAdmin() {
		pg = PgSessions.open();
	}

	@AfterAll
	static void closeAdmin() {
		pg.close();
	}

	@Test
	void seesOnlyTheSessionsOfItsApplicationNameAndTheirState() {
		String app = PgSessions.newApplicationName("fixture");
		String other = PgSessions.newApplicationName("fixture");
		Connection c = Mono.from(PgSessions.factory(app).create()).block(GUARD);
		Connection d = Mono.from(PgSessions.factory(other).create()).block(GUARD);
		try {
			int pid = pid(c);
			assertThat(pg.pids(app)).containsExactly(pid);
			assertThat(pg.states(app)).containsEntry(pid, "idle");
			assertThat(pg.pids(other)).containsExactly(pid(d));

			Mono.from(c.beginTransaction()).block(GUARD);
			pid(c);
			assertThat(pg.idleInTransaction(app)).isEqualTo(1);
			assertThat(pg.idleInTransaction(other)).isZero();

			assertThat(pg.terminate(List.of(pid))).isEqualTo(1);
			Await.until(() -> pg.pids(app).isEmpty(), "terminated session gone");
			assertThat(pg.pids(other)).hasSize(1);
		}
		finally {
			Mono.from(c.close()).onErrorResume(e -> Mono.empty()).block(GUARD);
			Mono.from(d.close()).block(GUARD);
		}
		Await.until(() -> pg.pids(other).isEmpty(), "closed session gone");
	}

	@Test
	void seesStatementsRunningAndSessionsThroughTheProxy() {
		String app = PgSessions.newApplicationName("fixture-proxy");
		try (TcpProxy proxy = PgSessions.proxyToServer()) {
			Connection c = Mono.from(PgSessions.factory(app, proxy).create()).block(GUARD);
			int pid = pid(c);
			assertThat(pg.pids(app)).containsExactly(pid);
			assertThat(proxy.liveConnections()).isEqualTo(1);

			Flux.from(c.createStatement("SELECT pg_sleep(2)").execute()).flatMap(r -> r.getRowsUpdated()).subscribe(n -> { }, e -> { });
			Await.until(() -> pg.activeRunning(app, "pg_sleep").equals(List.of(pid)), "statement seen running");

			assertThat(proxy.cutAll()).isEqualTo(1);
			Await.until(() -> pg.pids(app).isEmpty(), "cut session ends on the server");
			Mono.from(c.close()).onErrorResume(e -> Mono.empty()).block(GUARD);
		}
	}

	private static int pid(Connection c) {
		Integer pid = Flux.from(c.createStatement("SELECT pg_backend_pid()").execute())
				.concatMap(r -> r.map(row -> row.get(0, Integer.class)))
				.single()
				.block(GUARD);
		assertThat(pid).isNotNull();
		return pid;
	}
}
