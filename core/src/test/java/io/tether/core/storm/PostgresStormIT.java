package io.tether.core.storm;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.core.Database;
import java.time.Duration;

/** The storm on PostgreSQL, where the server can tell which sessions sit idle inside a transaction. */
class PostgresStormIT extends StormContract {

	@Override
	ConnectionFactory target(String application) {
		String url = io.tether.context.testing.Database.postgresUrl();
		return ConnectionFactories.get(url + (url.contains("?") ? "&" : "?") + "applicationName=" + application);
	}

	@Override
	String probeSql() {
		return "select now() = statement_timestamp() and txid_current_if_assigned() is null";
	}

	@Override
	int idleInTransaction(Database admin, String application) {
		return admin.sql("select count(*) from pg_stat_activity where application_name = :app and state like 'idle in transaction%'")
				.bind("app", application).mapTo(Long.class).one().block(Duration.ofSeconds(30)).intValue();
	}

	@Override
	String rowsSource(int n) {
		return "select g from generate_series(1, " + n + ") g";
	}

	@Override
	int defaultPipelines() {
		return 600;
	}
}
