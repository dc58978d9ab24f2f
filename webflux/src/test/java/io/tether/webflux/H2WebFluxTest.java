package io.tether.webflux;

import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.testing.Database;

/** {@link WebFluxContract} on an in-memory H2 database of its own per test. */
class H2WebFluxTest extends WebFluxContract {

	private final ConnectionFactory target = Database.H2.connectionFactory();

	@Override
	ConnectionFactory target() {
		return target;
	}

	@Override
	String sessionSql() {
		return Database.H2.sessionIdSql();
	}

	@Override
	String sessionsInTransactionSql() {
		return "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE CONTAINS_UNCOMMITTED";
	}
}
