package io.tether.examples.service;

import io.tether.core.Database;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A PostgreSQL schema of a test's own, so the demo's plain {@code users} and {@code items} stay out of other
 * suites' way. As a {@code @RegisterExtension} field it is created before each test and dropped after it.
 */
public final class PostgresSchema implements BeforeEachCallback, AfterEachCallback {

	private final String name;

	public PostgresSchema(String prefix) {
		this.name = prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
	}

	public String name() {
		return name;
	}

	/** The demo's {@code DATABASE_URL} for this schema. */
	public String url() {
		String url = io.tether.context.testing.Database.postgresUrl();
		return url + (url.contains("?") ? "&" : "?") + "schema=" + name + "&maxSize=20";
	}

	public void create() {
		run("create schema " + name);
	}

	/** Runs {@code sql} on an admin connection of its own, with {@code search_path} set to this schema. */
	public void run(String sql) {
		try (Database admin = Database.connect(io.tether.context.testing.Database.postgresUrl())) {
			admin.inConnection(admin.sql("set search_path to " + name).then().then(admin.sql(sql).then())).block();
		}
	}

	public void drop() {
		try (Database admin = Database.connect(io.tether.context.testing.Database.postgresUrl())) {
			admin.sql("drop schema if exists " + name + " cascade").then().block();
		}
	}

	@Override
	public void beforeEach(ExtensionContext context) {
		create();
	}

	@Override
	public void afterEach(ExtensionContext context) {
		drop();
	}
}
