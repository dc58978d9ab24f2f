package io.tether.context.internal;

import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Wrapped;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A {@link Result} whose consumption keeps the lease of the statement that produced it. */
final class GatedResult implements Result, Wrapped<Result> {

	private final Result delegate;
	private final StatementGate gate;
	private final Lease lease;

	GatedResult(Result delegate, StatementGate gate, Lease lease) {
		this.delegate = delegate;
		this.gate = gate;
		this.lease = lease;
	}

	@Override
	public Publisher<Long> getRowsUpdated() {
		return GatedFlux.consumption(delegate.getRowsUpdated(), gate, lease);
	}

	@Override
	public <T> Publisher<T> map(BiFunction<Row, RowMetadata, ? extends T> mappingFunction) {
		return GatedFlux.consumption(delegate.<T>map(mappingFunction), gate, lease);
	}

	@Override
	public <T> Publisher<T> map(Function<? super Readable, ? extends T> mappingFunction) {
		return GatedFlux.consumption(delegate.<T>map(mappingFunction), gate, lease);
	}

	@Override
	public Result filter(Predicate<Segment> filter) {
		return new GatedResult(delegate.filter(filter), gate, lease);
	}

	/**
	 * Only the driver's delivery of segments runs under the lease. The publishers that the mapping function
	 * returns are subscribed outside it, in order: they may run statements on this same connection (a query
	 * per row), which would otherwise wait for a lease that their own completion has to release. R2DBC makes
	 * a segment valid only inside the mapping function, so this is safe for every function that reads its
	 * segment there (a publisher that reads the row lazily, later, was never portable).
	 */
	@Override
	public <T> Publisher<T> flatMap(Function<Segment, ? extends Publisher<? extends T>> mappingFunction) {
		Publisher<Publisher<? extends T>> mapped = delegate.flatMap(segment -> Mono.just(mappingFunction.apply(segment)));
		return Flux.from(GatedFlux.consumption(mapped, gate, lease)).concatMap(Function.identity(), 0);
	}

	@Override
	public Result unwrap() {
		return delegate;
	}
}
