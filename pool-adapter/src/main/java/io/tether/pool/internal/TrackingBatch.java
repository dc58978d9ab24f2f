package io.tether.pool.internal;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Result;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

/** A batch of a {@link PooledConnection}: forwards, and tracks its execution and results. */
final class TrackingBatch implements Batch {

	private final PooledConnection connection;
	private final Batch delegate;

	TrackingBatch(PooledConnection connection, Batch delegate) {
		this.connection = connection;
		this.delegate = delegate;
	}

	@Override
	public Batch add(String sql) {
		delegate.add(sql);
		return this;
	}

	@Override
	public Publisher<? extends Result> execute() {
		if (connection.isClosed()) {
			return Flux.error(connection.closedError());
		}
		return connection.trackExecution(delegate.execute());
	}
}
