package io.tether.context.testing;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.UUID;

/**
 * The two databases the contract suites run on. H2 is embedded and in-memory; PostgreSQL is the real
 * server at {@code TETHER_PG_URL} (default {@code r2dbc:postgresql://postgres@127.0.0.1:5432/test}). A
 * PostgreSQL suite that cannot reach the server fails: it never skips.
 */
public enum Database {

	H2 {
		@Override
		public ConnectionFactory connectionFactory() {
			return ConnectionFactories.get("r2dbc:h2:mem:///tether_" + UUID.randomUUID().toString().replace("-", "")
					+ "?options=DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000");
		}

		@Override
		public String sessionIdSql() {
			return "SELECT SESSION_ID()";
		}
	},

	POSTGRES {
		@Override
		public ConnectionFactory connectionFactory() {
			return ConnectionFactories.get(postgresUrl());
		}

		@Override
		public String sessionIdSql() {
			return "SELECT pg_backend_pid()";
		}
	};

	public static String postgresUrl() {
		String url = System.getenv("TETHER_PG_URL");
		if (url == null || url.isBlank()) {
			url = System.getProperty("tether.pg.url", "r2dbc:postgresql://postgres@127.0.0.1:5432/test");
		}
		return url;
	}

	/** A fresh, unpooled factory (for H2 a new private in-memory database). */
	public abstract ConnectionFactory connectionFactory();

	/** SQL returning one integer that identifies the server session of the connection. */
	public abstract String sessionIdSql();

	/**
	 * An r2dbc-pool over a fresh factory. Its {@code disposeLater()} waits until no release is still being
	 * recycled inside the pool (see {@link RecycleAwarePool} for the reactor-pool race that avoids).
	 */
	public ConnectionPool pool(int maxSize) {
		return pool(connectionFactory(), maxSize, Duration.ofSeconds(10));
	}

	public static ConnectionPool pool(ConnectionFactory factory, int maxSize, Duration acquireTimeout) {
		return RecycleAwarePool.create(ConnectionPoolConfiguration.builder(factory)
				.initialSize(0)
				.minIdle(0)
				.maxSize(maxSize)
				.maxAcquireTime(acquireTimeout));
	}
}
