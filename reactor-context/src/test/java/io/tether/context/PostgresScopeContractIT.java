package io.tether.context;

import io.tether.context.testing.Database;

class PostgresScopeContractIT extends ScopeContract {

	@Override
	Database database() {
		return Database.POSTGRES;
	}
}
