package io.tether.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.examples.service.PostgresSchema;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The README's API tour on the PostgreSQL server, through {@code Database.connect} and Tether's pool, in a
 * schema of its own: the tour drops and creates plain {@code users} and {@code items}, which in the shared
 * schema broke the demo (issue 11, section 2).
 */
class ApiTourIT {

	@RegisterExtension
	final PostgresSchema schema = new PostgresSchema("tour");

	@Test
	void theTourRunsOnPostgres() {
		List<String> out = ApiTour.run(schema.url());
		assertThat(out).hasSize(9);
		assertThat(out.get(0)).startsWith("alice has id ");
		assertThat(out).contains("deactivated: 1", "items added: [1, 1]", "items moved: 2",
				"duplicate: already registered (SQLState 23505)", "items: 2");
		assertThat(out.get(8)).endsWith("bob@example.com: 2 items]");
	}
}
