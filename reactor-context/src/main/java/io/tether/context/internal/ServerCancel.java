package io.tether.context.internal;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Wrapped;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * The driver's request to the server to cancel the statement a connection is running, where the driver has
 * one: r2dbc-postgresql's {@code PostgresqlConnection.cancelRequest()}, which sends PostgreSQL's CancelRequest
 * over a connection of its own and completes once the server has taken it (it closes that connection after
 * signalling the backend). Found on the connection or on what it wraps (a pool's connection), by the driver's
 * interface name, so that this module does not depend on the driver. H2 has none.
 *
 * <p>Only used outside a transaction: on PostgreSQL a cancelled statement aborts the transaction it runs in,
 * and every later statement of that transaction would fail (SQLState 25P02).
 */
final class ServerCancel {

	/** SQLState of PostgreSQL's "canceling statement due to user request" (also of a statement timeout). */
	static final String QUERY_CANCELED = "57014";

	private static final String POSTGRESQL_CONNECTION = "io.r2dbc.postgresql.api.PostgresqlConnection";

	private static final ClassValue<@Nullable Method> CANCEL_REQUEST = new ClassValue<>() {
		@Override
		protected @Nullable Method computeValue(Class<?> type) {
			try {
				Class<?> api = Class.forName(POSTGRESQL_CONNECTION, false, type.getClassLoader());
				return api.isAssignableFrom(type) ? api.getMethod("cancelRequest") : null;
			}
			catch (ClassNotFoundException | NoSuchMethodException | LinkageError e) {
				return null;
			}
		}
	};

	private final Connection connection;
	// resolved on first use: the driver's connection that has a cancel request, or this (none)
	private volatile @Nullable Object target;

	ServerCancel(Connection connection) {
		this.connection = connection;
	}

	private @Nullable Connection driverConnection() {
		Object t = target;
		if (t == null) {
			t = this;
			Connection c = connection;
			for (int i = 0; i < 10; i++) {
				if (CANCEL_REQUEST.get(c.getClass()) != null) {
					t = c;
					break;
				}
				if (!(c instanceof Wrapped<?> w && w.unwrap() instanceof Connection inner) || inner == c) {
					break;
				}
				c = inner;
			}
			target = t;
		}
		return t instanceof Connection c ? c : null;
	}

	/** Whether the driver can cancel a statement at the server at all. */
	boolean isSupported() {
		return driverConnection() != null;
	}

	/**
	 * The cancel request of the statement the connection is running now, or null when there is none or the
	 * connection is inside a transaction. Nothing is sent until the publisher is subscribed.
	 */
	@Nullable Publisher<?> request() {
		Connection c = driverConnection();
		if (c == null || !c.isAutoCommit()) {
			return null;
		}
		Method m = CANCEL_REQUEST.get(c.getClass());
		if (m == null) {
			return null;
		}
		try {
			return (Publisher<?>) m.invoke(c);
		}
		catch (InvocationTargetException e) {
			return Mono.error(e.getCause() != null ? e.getCause() : e);
		}
		catch (ReflectiveOperationException | RuntimeException e) {
			return Mono.error(e);
		}
	}

	/** Whether {@code t} is the server's answer to a cancel: SQLState 57014 on it or on one of its causes. */
	static boolean isCancellation(@Nullable Throwable t) {
		for (int i = 0; t != null && i < 10; i++, t = t.getCause()) {
			if (t instanceof R2dbcException e && QUERY_CANCELED.equals(e.getSqlState())) {
				return true;
			}
		}
		return false;
	}
}
