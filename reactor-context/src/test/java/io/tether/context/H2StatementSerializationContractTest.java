package io.tether.context;

import io.tether.context.testing.Database;

class H2StatementSerializationContractTest extends StatementSerializationContract {

	@Override
	Database database() {
		return Database.H2;
	}
}
