package io.tether.examples.service;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link BadInputContract} on PostgreSQL, in a schema of its own that is dropped afterwards. */
class PostgresBadInputIT extends BadInputContract {

	private final PostgresSchema schema = new PostgresSchema("bad");

	@Override
	String databaseUrl() {
		return schema.url();
	}

	@BeforeAll
	@Override
	void start() {
		schema.create();
		super.start();
	}

	@AfterAll
	@Override
	void stop() {
		try {
			super.stop();
		}
		finally {
			schema.drop();
		}
	}
}
