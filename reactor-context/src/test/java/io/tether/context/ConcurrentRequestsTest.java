package io.tether.context;

import io.tether.context.testing.Database;

/** The slow-requests experiment on H2, embedded. */
class ConcurrentRequestsTest extends ConcurrentRequestsContract {

	@Override
	Database database() {
		return Database.H2;
	}
}
