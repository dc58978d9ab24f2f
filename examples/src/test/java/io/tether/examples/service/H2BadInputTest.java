package io.tether.examples.service;

import java.util.UUID;

/** {@link BadInputContract} on an in-memory H2 database of its own. */
class H2BadInputTest extends BadInputContract {

	@Override
	String databaseUrl() {
		return DemoConfig.inMemoryH2("bad_" + UUID.randomUUID().toString().replace("-", ""));
	}
}
