package io.tether.examples.service;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.core.Database;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link SchemaCheckContract} on PostgreSQL, in a schema of its own per test, dropped afterwards. */
class PostgresSchemaCheckIT extends SchemaCheckContract {

	@RegisterExtension
	final PostgresSchema schema = new PostgresSchema("check");

	@Override
	String databaseUrl() {
		return schema.url();
	}

	@Override
	void run(String sql) {
		schema.run(sql);
	}

	@Override
	List<String> tables() {
		try (Database admin = Database.connect(io.tether.context.testing.Database.postgresUrl())) {
			return admin.sql("select table_name from information_schema.tables where table_schema = :schema order by table_name")
					.bind("schema", schema.name()).mapTo(String.class).all().collectList().block();
		}
	}

	@Override
	int units(int characters) {
		return characters;
	}

	@Test
	void aSchemaThatDoesNotExistIsNamedAsTheProblem() {
		PostgresSchema missing = new PostgresSchema("missing");

		assertThatThrownBy(() -> DemoServer.start(DemoConfig.forTest(missing.url(), 0, Duration.ofMillis(1))))
				.isInstanceOf(UserStore.IncompatibleSchemaException.class)
				.hasMessageContaining("no current schema")
				.hasMessageContaining("create schema");
	}
}
