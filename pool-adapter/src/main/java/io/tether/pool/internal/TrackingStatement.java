package io.tether.pool.internal;

import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

/** A statement of a {@link PooledConnection}: forwards, and tracks its execution and results. */
final class TrackingStatement implements Statement {

	private final PooledConnection connection;
	private final Statement delegate;

	TrackingStatement(PooledConnection connection, Statement delegate) {
		this.connection = connection;
		this.delegate = delegate;
	}

	@Override
	public Statement add() {
		delegate.add();
		return this;
	}

	@Override
	public Statement bind(int index, Object value) {
		delegate.bind(index, value);
		return this;
	}

	@Override
	public Statement bind(String name, Object value) {
		delegate.bind(name, value);
		return this;
	}

	@Override
	public Statement bindNull(int index, Class<?> type) {
		delegate.bindNull(index, type);
		return this;
	}

	@Override
	public Statement bindNull(String name, Class<?> type) {
		delegate.bindNull(name, type);
		return this;
	}

	@Override
	public Statement returnGeneratedValues(String... columns) {
		delegate.returnGeneratedValues(columns);
		return this;
	}

	@Override
	public Statement fetchSize(int rows) {
		delegate.fetchSize(rows);
		return this;
	}

	@Override
	public Publisher<? extends Result> execute() {
		if (connection.isClosed()) {
			return Flux.error(connection.closedError());
		}
		return connection.trackExecution(delegate.execute());
	}

	@Override
	public String toString() {
		return delegate.toString();
	}
}
