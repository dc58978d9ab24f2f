package io.tether.core.storm;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.core.Database;

/** The storm on H2 (in memory, embedded): a session with uncommitted changes shows in its sessions table. */
class H2StormTest extends StormContract {

	@Override
	ConnectionFactory target(String application) {
		return ConnectionFactories.get("r2dbc:h2:mem:///" + application + "?options=DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000");
	}

	@Override
	String probeSql() {
		return "select not contains_uncommitted from information_schema.sessions where session_id = session_id()";
	}

	@Override
	int idleInTransaction(Database admin, String application) {
		return -1;
	}

	@Override
	String rowsSource(int n) {
		return "select x from system_range(1, " + n + ")";
	}

	@Override
	int defaultPipelines() {
		return 2_000;
	}
}
