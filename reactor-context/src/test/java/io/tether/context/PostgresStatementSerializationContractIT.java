package io.tether.context;

import io.tether.context.testing.Database;

class PostgresStatementSerializationContractIT extends StatementSerializationContract {

	@Override
	Database database() {
		return Database.POSTGRES;
	}
}
