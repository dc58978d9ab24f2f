package io.tether.context.internal;

import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.Wrapped;
import org.reactivestreams.Publisher;

/** A {@link Statement} whose {@code execute()} waits for its turn on the connection. */
final class GatedStatement implements Statement, Wrapped<Statement> {

	private final Statement delegate;
	private final StatementGate gate;

	GatedStatement(Statement delegate, StatementGate gate) {
		this.delegate = delegate;
		this.gate = gate;
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
		return GatedFlux.execution(delegate.execute(), gate);
	}

	@Override
	public Statement unwrap() {
		return delegate;
	}
}
