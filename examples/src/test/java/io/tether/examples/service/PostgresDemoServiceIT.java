package io.tether.examples.service;

import io.tether.core.Database;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * {@link DemoServiceContract} on PostgreSQL, in a schema of its own (the demo's tables are plain
 * {@code users} and {@code items}; other suites on the shared server must not see them).
 */
class PostgresDemoServiceIT extends DemoServiceContract {

	private final String schema = "demo_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

	@Override
	String databaseUrl() {
		String url = io.tether.context.testing.Database.postgresUrl();
		return url + (url.contains("?") ? "&" : "?") + "schema=" + schema + "&maxSize=20";
	}

	@BeforeEach
	@Override
	void start() {
		try (Database admin = Database.connect(io.tether.context.testing.Database.postgresUrl())) {
			admin.sql("create schema " + schema).then().block();
		}
		super.start();
	}

	@AfterEach
	@Override
	void stop() {
		super.stop();
		try (Database admin = Database.connect(io.tether.context.testing.Database.postgresUrl())) {
			admin.sql("drop schema " + schema + " cascade").then().block();
		}
	}
}
