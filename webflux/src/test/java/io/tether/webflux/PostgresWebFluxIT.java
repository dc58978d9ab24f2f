package io.tether.webflux;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.testing.Database;
import java.util.UUID;

/**
 * {@link WebFluxContract} on PostgreSQL. The pool's connections carry an {@code application_name} unique
 * to the test, so that {@code pg_stat_activity} tells whether one of them sits idle in a transaction.
 */
class PostgresWebFluxIT extends WebFluxContract {

	private final String applicationName = "tether_webflux_" + UUID.randomUUID().toString().substring(0, 8);
	private final ConnectionFactory target = ConnectionFactories.get(Database.postgresUrl()
			+ (Database.postgresUrl().contains("?") ? "&" : "?") + "applicationName=" + applicationName);

	@Override
	ConnectionFactory target() {
		return target;
	}

	@Override
	String sessionSql() {
		return Database.POSTGRES.sessionIdSql();
	}

	@Override
	String sessionsInTransactionSql() {
		return "select count(*) from pg_stat_activity where application_name = '" + applicationName
				+ "' and state like 'idle in transaction%'";
	}
}
