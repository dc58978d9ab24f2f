package io.tether.benchmarks.load;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.Readable;
import io.tether.core.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One way of running W1 and W2 (see {@link Workload}), written the way its users write it. Every pool holds
 * {@link Target#poolSize()} connections; nothing else is tuned.
 */
abstract class Peer implements AutoCloseable {

	/** The JVM peers, in the order of the table. {@code pgbench} runs as a process, see {@link Pgbench}. */
	static final List<String> NAMES = List.of("tether", "tether-r2dbc-pool", "raw-r2dbc-pool", "spring", "jdbc-hikari");

	/** Peers that run only when named ({@code --peers=...}): {@code tether-map} is {@code tether} with the hand-written mapper. */
	static final List<String> OPTIONAL = List.of("tether-map");

	static final String PGBENCH = "pgbench";

	static Peer open(String name, Target t) {
		return switch (name) {
			case "tether" -> new TetherPeer(Database.connect(t.r2dbcUrl("loadbench-tether", "maxSize=" + t.poolSize())), null, true, t);
			case "tether-map" -> new TetherPeer(Database.connect(t.r2dbcUrl("loadbench-tether-map", "maxSize=" + t.poolSize())), null, false, t);
			case "tether-r2dbc-pool" -> {
				ConnectionPool pool = r2dbcPool(t, "loadbench-tether-r2dbc-pool");
				yield new TetherPeer(Database.of(pool), pool, true, t);
			}
			case "raw-r2dbc-pool" -> new RawPeer(r2dbcPool(t, "loadbench-raw-r2dbc-pool"), t);
			case "spring" -> new SpringPeer(r2dbcPool(t, "loadbench-spring"), t);
			case "jdbc-hikari" -> new JdbcPeer(t);
			default -> throw new IllegalArgumentException("unknown peer " + name + ", expected one of "
					+ NAMES + ", " + OPTIONAL + " or " + PGBENCH);
		};
	}

	/** r2dbc-pool with {@code initialSize} = {@code maxSize} = the pool size, every other setting at its default. */
	static ConnectionPool r2dbcPool(Target t, String applicationName) {
		ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration
				.builder(ConnectionFactories.get(t.r2dbcUrl(applicationName, "")))
				.initialSize(t.poolSize())
				.maxSize(t.poolSize())
				.build());
		pool.warmup().block();
		return pool;
	}

	static String w1Sql(Target t, String marker) {
		return "select id, email, is_active from " + t.table() + " where id = " + marker;
	}

	static String updateSql(Target t, String marker) {
		return "update " + t.table() + " set login_count = login_count + 1 where id = " + marker;
	}

	/** The hand-written mapper of the raw and Spring peers. */
	static User user(Readable row) {
		Long id = row.get("id", Long.class);
		String email = row.get("email", String.class);
		Boolean active = row.get("is_active", Boolean.class);
		return new User(id == null ? 0 : id, email == null ? "" : email, active != null && active);
	}

	static long oneRowUpdated(Long n) {
		if (n != 1L) {
			throw new IllegalStateException("the update changed " + n + " rows, expected 1");
		}
		return n;
	}

	/** A reactive peer: each call returns a cold publisher of one operation. */
	abstract static class Reactive extends Peer {
		abstract Mono<?> w1(long id);

		abstract Mono<?> w2(long a, long b);
	}

	/** A blocking peer: each call runs one operation on the calling thread. */
	abstract static class Blocking extends Peer {
		abstract Object w1(long id) throws SQLException;

		abstract Object w2(long a, long b) throws SQLException;
	}

	@Override
	public abstract void close();

	/** {@code db.sql(...).bind(...).mapTo(User.class).one()}, W2 in {@code db.inTransaction(...)}. */
	static final class TetherPeer extends Reactive {
		private final Database db;
		private final @Nullable ConnectionPool pool;
		private final boolean mapTo;
		private final String w1;
		private final String update;

		TetherPeer(Database db, @Nullable ConnectionPool pool, boolean mapTo, Target t) {
			this.db = db;
			this.pool = pool;
			this.mapTo = mapTo;
			this.w1 = w1Sql(t, ":id");
			this.update = updateSql(t, ":id");
		}

		@Override
		Mono<User> w1(long id) {
			return mapTo ? db.sql(w1).bind("id", id).mapTo(User.class).one()
					: db.sql(w1).bind("id", id).<User>map(Peer::user).one();
		}

		@Override
		Mono<Long> w2(long a, long b) {
			return db.inTransaction(w1(a).then(w1(b)).then(db.sql(update).bind("id", a).rowsUpdated()).map(Peer::oneRowUpdated));
		}

		@Override
		public void close() {
			db.close();
			if (pool != null) {
				pool.dispose();
			}
		}
	}

	/** r2dbc-postgresql over r2dbc-pool by hand: {@code Mono.usingWhen(pool.create(), ..., Connection::close)}. */
	static final class RawPeer extends Reactive {
		private final ConnectionPool pool;
		private final String w1;
		private final String update;

		RawPeer(ConnectionPool pool, Target t) {
			this.pool = pool;
			this.w1 = w1Sql(t, "$1");
			this.update = updateSql(t, "$1");
		}

		@Override
		Mono<User> w1(long id) {
			return Mono.usingWhen(pool.create(), c -> select(c, id), Connection::close);
		}

		private Mono<User> select(Connection c, long id) {
			return Flux.from(c.createStatement(w1).bind(0, id).execute()).flatMap(r -> r.map(Peer::user)).singleOrEmpty();
		}

		@Override
		Mono<Long> w2(long a, long b) {
			return Mono.usingWhen(pool.create(),
					c -> Mono.usingWhen(Mono.from(c.beginTransaction()).thenReturn(c),
							tx -> select(tx, a).then(select(tx, b))
									.then(Flux.from(tx.createStatement(update).bind(0, a).execute())
											.flatMap(r -> r.getRowsUpdated()).reduce(0L, Long::sum))
									.map(Peer::oneRowUpdated),
							Connection::commitTransaction,
							(tx, e) -> tx.rollbackTransaction(),
							Connection::rollbackTransaction),
					Connection::close);
		}

		@Override
		public void close() {
			pool.dispose();
		}
	}

	/** Spring's {@link DatabaseClient} (named parameters) and a {@link TransactionalOperator} for W2. */
	static final class SpringPeer extends Reactive {
		private final ConnectionPool pool;
		private final DatabaseClient client;
		private final TransactionalOperator tx;
		private final String w1;
		private final String update;

		SpringPeer(ConnectionPool pool, Target t) {
			this.pool = pool;
			this.client = DatabaseClient.create(pool);
			this.tx = TransactionalOperator.create(new R2dbcTransactionManager(pool));
			this.w1 = w1Sql(t, ":id");
			this.update = updateSql(t, ":id");
		}

		@Override
		Mono<User> w1(long id) {
			return client.sql(w1).bind("id", id).map(Peer::user).one();
		}

		@Override
		Mono<Long> w2(long a, long b) {
			return w1(a).then(w1(b)).then(client.sql(update).bind("id", a).fetch().rowsUpdated()).map(Peer::oneRowUpdated)
					.as(tx::transactional);
		}

		@Override
		public void close() {
			pool.dispose();
		}
	}

	/** pgjdbc over HikariCP, called from platform threads (as many as operations in flight). */
	static final class JdbcPeer extends Blocking {
		private final HikariDataSource ds;
		private final String w1;
		private final String update;

		JdbcPeer(Target t) {
			HikariConfig c = new HikariConfig();
			c.setJdbcUrl(t.jdbcUrl());
			c.setUsername(t.user());
			if (t.password() != null) {
				c.setPassword(t.password());
			}
			c.setMaximumPoolSize(t.poolSize());
			c.setMinimumIdle(t.poolSize());
			c.addDataSourceProperty("ApplicationName", "loadbench-jdbc-hikari");
			this.ds = new HikariDataSource(c);
			this.w1 = w1Sql(t, "?");
			this.update = updateSql(t, "?");
		}

		@Override
		User w1(long id) throws SQLException {
			try (java.sql.Connection c = ds.getConnection()) {
				return select(c, id);
			}
		}

		private User select(java.sql.Connection c, long id) throws SQLException {
			try (PreparedStatement ps = c.prepareStatement(w1)) {
				ps.setLong(1, id);
				try (ResultSet rs = ps.executeQuery()) {
					if (!rs.next()) {
						throw new IllegalStateException("no user " + id);
					}
					User u = new User(rs.getLong("id"), rs.getString("email"), rs.getBoolean("is_active"));
					if (rs.next()) {
						throw new IllegalStateException("more than one user " + id);
					}
					return u;
				}
			}
		}

		@Override
		Long w2(long a, long b) throws SQLException {
			try (java.sql.Connection c = ds.getConnection()) {
				c.setAutoCommit(false);
				try {
					select(c, a);
					select(c, b);
					long n;
					try (PreparedStatement ps = c.prepareStatement(update)) {
						ps.setLong(1, a);
						n = ps.executeUpdate();
					}
					c.commit();
					return oneRowUpdated(n);
				}
				catch (SQLException | RuntimeException e) {
					c.rollback();
					throw e;
				}
				finally {
					c.setAutoCommit(true);
				}
			}
		}

		@Override
		public void close() {
			ds.close();
		}
	}
}
