package io.tether.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.junit.jupiter.api.Test;

/** {@link ErrorContract} on the PostgreSQL server at {@code TETHER_PG_URL}. */
class PostgresErrorContractIT extends ErrorContract {

	private final String role = unique("tether_nologin_");

	@Override
	io.tether.context.testing.Database database() {
		return io.tether.context.testing.Database.POSTGRES;
	}

	/** {@code TETHER_PG_URL} with its user info and database replaced. */
	static String url(String userInfo, String database, String query) {
		io.r2dbc.spi.ConnectionFactoryOptions o = io.r2dbc.spi.ConnectionFactoryOptions.parse(
				io.tether.context.testing.Database.postgresUrl());
		Object port = o.hasOption(io.r2dbc.spi.ConnectionFactoryOptions.PORT) ? o.getValue(io.r2dbc.spi.ConnectionFactoryOptions.PORT) : 5432;
		return "r2dbc:postgresql://" + userInfo + "@" + o.getValue(io.r2dbc.spi.ConnectionFactoryOptions.HOST) + ":" + port
				+ "/" + database + (query.isEmpty() ? "" : "?" + query);
	}

	static String currentDatabase() {
		return String.valueOf(io.r2dbc.spi.ConnectionFactoryOptions.parse(io.tether.context.testing.Database.postgresUrl())
				.getValue(io.r2dbc.spi.ConnectionFactoryOptions.DATABASE));
	}

	static String currentUser() {
		return String.valueOf(io.r2dbc.spi.ConnectionFactoryOptions.parse(io.tether.context.testing.Database.postgresUrl())
				.getValue(io.r2dbc.spi.ConnectionFactoryOptions.USER));
	}

	@Override
	String unknownDatabaseUrl() {
		return url(currentUser(), "nosuch_db_" + role, "");
	}

	@Override
	String refusedUserUrl() {
		// The shared server trusts every local user, so "bad credentials" is a role that may not log in.
		db.sql("create role " + role + " nologin").then().block(TIMEOUT);
		return url(role + ":" + SECRET, currentDatabase(), "");
	}

	@Override
	void dropRefusedUser() {
		db.sql("drop role if exists " + role).then().block(TIMEOUT);
	}

	@Test
	void aRoleThatMayNotLogInIsNamed() {
		try (Database refused = Database.connect(refusedUserUrl())) {
			assertThat(catchThrowable(() -> refused.sql("select 1").then().block(TIMEOUT)))
					.isInstanceOf(PermissionDeniedException.class)
					.hasMessageContaining("\"" + role + "\" is not permitted to log in")
					.hasMessageContaining("[SQLState 28000");
		}
		finally {
			dropRefusedUser();
		}
	}

	/** H2 is embedded (r2dbc-h2 has no tcp protocol), so only a server can refuse a connection. */
	@Test
	void aRefusedConnectionIsTransientAndNamesHostPortAndReason() {
		try (Database refused = Database.connect("r2dbc:postgresql://app:" + SECRET + "@127.0.0.1:1/nothing_listens?connectTimeout=PT5S")) {
			Throwable error = catchThrowable(() -> refused.sql("select 1").then().block(TIMEOUT));
			assertThat(error).isInstanceOf(ConnectionFailureException.class)
					.hasMessageContaining("127.0.0.1")
					.hasMessageContaining(":1")
					.hasMessageContaining("Connection refused");
			assertThat(((DataAccessException) error).isTransient()).isTrue();
			assertNoSecret(error, SECRET);
		}
	}


	@Override
	String urlWithPassword(String password, String query) {
		return url(currentUser() + ":" + password, currentDatabase(), query.isEmpty() ? "applicationName=tether-errors"
				: query + "&applicationName=tether-errors");
	}

	@Override
	int bindLimit() {
		return 65_535;
	}

	@Override
	String valueEchoingSql() {
		return "select cast(:v as int)";
	}
}
