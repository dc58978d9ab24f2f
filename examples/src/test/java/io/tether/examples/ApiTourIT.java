package io.tether.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.context.testing.Database;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's API tour on the PostgreSQL server, through {@code Database.connect} and Tether's pool. */
class ApiTourIT {

	@Test
	void theTourRunsOnPostgres() {
		List<String> out = ApiTour.run(Database.postgresUrl());
		assertThat(out).hasSize(9);
		assertThat(out.get(0)).startsWith("alice has id ");
		assertThat(out).contains("deactivated: 1", "items added: [1, 1]", "items moved: 2",
				"duplicate: already registered (SQLState 23505)", "items: 2");
		assertThat(out.get(8)).endsWith("bob@example.com: 2 items]");
	}
}
