package io.tether.core;

import java.nio.file.Path;
import java.util.UUID;

/** {@link ErrorContract} on embedded H2. */
class H2ErrorContractTest extends ErrorContract {

	private final String credentialsDb = unique("creds_");

	@Override
	io.tether.context.testing.Database database() {
		return io.tether.context.testing.Database.H2;
	}

	@Override
	String unknownDatabaseUrl() {
		// IFEXISTS: H2 would otherwise create any database it is asked for.
		Path missing = Path.of(System.getProperty("java.io.tmpdir"), "tether-" + UUID.randomUUID(), "nosuch_db");
		return "r2dbc:h2:file:///" + missing.toString().replace('\\', '/') + "?options=IFEXISTS=TRUE";
	}

	@Override
	String refusedUserUrl() {
		// The first connection creates the database with its owner's password; the URL returned has another one.
		try (Database owner = Database.connect("r2dbc:h2:mem://owner:right-password@localhost/" + credentialsDb
				+ "?options=DB_CLOSE_DELAY=-1")) {
			owner.sql("select 1").then().block(TIMEOUT);
		}
		return "r2dbc:h2:mem://owner:" + SECRET + "@localhost/" + credentialsDb + "?options=DB_CLOSE_DELAY=-1";
	}

	@Override
	void dropRefusedUser() {
		try (Database owner = Database.connect("r2dbc:h2:mem://owner:right-password@localhost/" + credentialsDb
				+ "?options=DB_CLOSE_DELAY=-1")) {
			owner.sql("shutdown").then().onErrorResume(e -> reactor.core.publisher.Mono.empty()).block(TIMEOUT);
		}
	}

	@Override
	String urlWithPassword(String password, String query) {
		return "r2dbc:h2:mem://sa:" + password + "@localhost/" + unique("pw_") + "?options=DB_CLOSE_DELAY=-1"
				+ (query.isEmpty() ? "" : "&" + query);
	}

	@Override
	int bindLimit() {
		return 100_000;
	}

	@Override
	String valueEchoingSql() {
		return "select cast(cast(:v as varchar(100)) as int)";
	}
}
