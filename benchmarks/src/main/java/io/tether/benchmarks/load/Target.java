package io.tether.benchmarks.load;

import io.r2dbc.spi.ConnectionFactoryOptions;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The database every peer talks to, the pool size they all get, and the schema the runner's table lives in.
 *
 * @param r2dbcUrl an {@code r2dbc:postgresql://} URL, without pool options
 */
record Target(String r2dbcUrl, String host, int port, String database, String user, @Nullable String password,
		int poolSize, String schema, int users) {

	static Target of(String r2dbcUrl, int poolSize, String schema, int users) {
		if (!schema.matches("[a-z_][a-z0-9_]*")) {
			throw new IllegalArgumentException("schema must be a plain lower-case SQL identifier, was " + schema);
		}
		ConnectionFactoryOptions o = ConnectionFactoryOptions.parse(r2dbcUrl);
		String driver = String.valueOf(o.getRequiredValue(ConnectionFactoryOptions.DRIVER));
		if (!driver.equals("postgresql")) {
			throw new IllegalArgumentException("the load runner needs an r2dbc:postgresql:// URL, the driver was " + driver);
		}
		Object port = o.getValue(ConnectionFactoryOptions.PORT);
		Object password = o.getValue(ConnectionFactoryOptions.PASSWORD);
		return new Target(r2dbcUrl, String.valueOf(o.getRequiredValue(ConnectionFactoryOptions.HOST)),
				port == null ? 5432 : Integer.parseInt(port.toString()),
				String.valueOf(o.getRequiredValue(ConnectionFactoryOptions.DATABASE)),
				String.valueOf(Objects.requireNonNullElse(o.getValue(ConnectionFactoryOptions.USER), "postgres")),
				password == null ? null : password.toString(), poolSize, schema, users);
	}

	/** The R2DBC URL with {@code applicationName} (so the sessions can be told apart on a shared server) and {@code extra} options. */
	String r2dbcUrl(String applicationName, String extra) {
		String sep = r2dbcUrl.indexOf('?') < 0 ? "?" : "&";
		return r2dbcUrl + sep + "applicationName=" + URLEncoder.encode(applicationName, StandardCharsets.UTF_8)
				+ (extra.isEmpty() ? "" : "&" + extra);
	}

	String jdbcUrl() {
		return "jdbc:postgresql://" + host + ":" + port + "/" + database;
	}

	@Override
	public String toString() {
		return "Target{" + user + "@" + host + ":" + port + "/" + database + ", pool " + poolSize + ", " + schema + "}";
	}

	String table() {
		return schema + ".users";
	}
}
