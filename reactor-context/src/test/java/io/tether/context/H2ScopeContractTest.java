package io.tether.context;

import io.tether.context.testing.Database;

class H2ScopeContractTest extends ScopeContract {

	@Override
	Database database() {
		return Database.H2;
	}
}
