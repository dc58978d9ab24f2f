package io.tether.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.context.testing.Database;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's API tour on the PostgreSQL server, through {@code Database.connect} and Tether's pool, in a
 * schema of its own: the tour's plain {@code users} and {@code items} would otherwise stay in the shared
 * database, where the demo's {@code create table if not exists} would keep the tour's incompatible ones.
 */
class ApiTourIT {

	private final String schema = "tour_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

	@BeforeEach
	void createSchema() {
		try (io.tether.core.Database admin = io.tether.core.Database.connect(Database.postgresUrl())) {
			admin.sql("create schema " + schema).then().block();
		}
	}

	@AfterEach
	void dropSchema() {
		try (io.tether.core.Database admin = io.tether.core.Database.connect(Database.postgresUrl())) {
			admin.sql("drop schema if exists " + schema + " cascade").then().block();
		}
	}

	@Test
	void theTourRunsOnPostgres() {
		String url = Database.postgresUrl();
		List<String> out = ApiTour.run(url + (url.contains("?") ? "&" : "?") + "schema=" + schema);
		assertThat(out).hasSize(9);
		assertThat(out.get(0)).startsWith("alice has id ");
		assertThat(out).contains("deactivated: 1", "items added: [1, 1]", "items moved: 2",
				"duplicate: already registered (SQLState 23505)", "items: 2");
		assertThat(out.get(8)).endsWith("bob@example.com: 2 items]");
	}
}
