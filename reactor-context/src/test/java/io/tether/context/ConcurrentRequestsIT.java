package io.tether.context;

import io.tether.context.testing.Database;

/** The slow-requests experiment on PostgreSQL. */
class ConcurrentRequestsIT extends ConcurrentRequestsContract {

	@Override
	Database database() {
		return Database.POSTGRES;
	}
}
