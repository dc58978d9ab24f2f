package io.tether.examples.service;

import java.util.UUID;

/** {@link DemoServiceContract} on an in-memory H2 database of its own. */
class H2DemoServiceTest extends DemoServiceContract {

	@Override
	String databaseUrl() {
		return DemoConfig.inMemoryH2("demo_" + UUID.randomUUID().toString().replace("-", ""));
	}
}
