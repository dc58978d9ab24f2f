package io.tether.pool.internal;

import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import org.reactivestreams.Publisher;

/**
 * A result of a {@link PooledConnection}: consuming it is tracked as a stream of the connection. Rows
 * cancelled before their end count as an interruption; the rows-updated count ends with its value.
 */
final class TrackingResult implements Result {

	private final PooledConnection connection;
	private final Result delegate;

	TrackingResult(PooledConnection connection, Result delegate) {
		this.connection = connection;
		this.delegate = delegate;
	}

	@Override
	public Publisher<Long> getRowsUpdated() {
		return connection.track(delegate.getRowsUpdated(), true);
	}

	@Override
	public <T> Publisher<T> map(BiFunction<Row, RowMetadata, ? extends T> mappingFunction) {
		return connection.track(delegate.map(mappingFunction), false);
	}

	@Override
	public <T> Publisher<T> map(Function<? super Readable, ? extends T> mappingFunction) {
		return connection.track(delegate.map(mappingFunction), false);
	}

	@Override
	public Result filter(Predicate<Segment> filter) {
		return new TrackingResult(connection, delegate.filter(filter));
	}

	@Override
	public <T> Publisher<T> flatMap(Function<Segment, ? extends Publisher<? extends T>> mappingFunction) {
		return connection.track(delegate.flatMap(mappingFunction), false);
	}

	@Override
	public String toString() {
		return delegate.toString();
	}
}
