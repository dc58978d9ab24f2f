package io.tether.context.internal;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Wrapped;
import org.reactivestreams.Publisher;

/** A {@link Batch} whose {@code execute()} waits for its turn on the connection. */
final class GatedBatch implements Batch, Wrapped<Batch> {

	private final Batch delegate;
	private final StatementGate gate;

	GatedBatch(Batch delegate, StatementGate gate) {
		this.delegate = delegate;
		this.gate = gate;
	}

	@Override
	public Batch add(String sql) {
		delegate.add(sql);
		return this;
	}

	@Override
	public Publisher<? extends Result> execute() {
		return GatedFlux.execution(delegate.execute(), gate);
	}

	@Override
	public Batch unwrap() {
		return delegate;
	}
}
