package io.tether.context.internal;

import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Wrapped;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@link Result} whose consumption keeps the lease of the statement that produced it.
 *
 * <p>Every result must be consumed once, or the driver may never finish the statement (r2dbc-postgresql
 * keeps an unconsumed result at the head of its conversation queue, and every later command on the
 * connection waits behind it). A result is therefore <em>claimed</em> by the first consumption that is
 * subscribed; if its execution is cancelled while the result is still unclaimed, the execution claims it
 * and drains it, and a consumption subscribed after that fails.
 */
final class GatedResult implements Result, Wrapped<Result> {

	private final Result delegate;
	private final StatementGate gate;
	private final Lease lease;
	private final AtomicBoolean claimed;

	GatedResult(Result delegate, StatementGate gate, Lease lease) {
		this(delegate, gate, lease, new AtomicBoolean());
	}

	private GatedResult(Result delegate, StatementGate gate, Lease lease, AtomicBoolean claimed) {
		this.delegate = delegate;
		this.gate = gate;
		this.lease = lease;
		this.claimed = claimed;
	}

	/** True for the first caller only: the consumption, or the drain after a cancel. */
	boolean claim() {
		return !claimed.get() && claimed.compareAndSet(false, true);
	}

	private <T> Publisher<T> consumption(Publisher<T> source, @Nullable AtomicBoolean draining) {
		return GatedFlux.consumption(source, gate, lease, this, draining);
	}

	@Override
	public Publisher<Long> getRowsUpdated() {
		return consumption(delegate.getRowsUpdated(), null);
	}

	/**
	 * A consumption cancelled before its end is drained (see {@link GatedSubscriber}); the application's
	 * mapping function is not called for the rows read after the cancel.
	 */
	@Override
	@SuppressWarnings("unchecked")
	public <T> Publisher<T> map(BiFunction<Row, RowMetadata, ? extends T> mappingFunction) {
		AtomicBoolean draining = new AtomicBoolean();
		return consumption(delegate.<T>map((row, metadata) -> draining.get()
				? (T) GatedSubscriber.DRAINED : mappingFunction.apply(row, metadata)), draining);
	}

	@Override
	@SuppressWarnings("unchecked")
	public <T> Publisher<T> map(Function<? super Readable, ? extends T> mappingFunction) {
		AtomicBoolean draining = new AtomicBoolean();
		return consumption(delegate.<T>map(readable -> draining.get()
				? (T) GatedSubscriber.DRAINED : mappingFunction.apply(readable)), draining);
	}

	@Override
	public Result filter(Predicate<Segment> filter) {
		return new GatedResult(delegate.filter(filter), gate, lease, claimed);
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
		AtomicBoolean draining = new AtomicBoolean();
		Publisher<Publisher<? extends T>> mapped = delegate.flatMap(segment -> Mono.just(draining.get()
				? Mono.<T>empty() : mappingFunction.apply(segment)));
		return Flux.from(consumption(mapped, draining)).concatMap(Function.identity(), 0);
	}

	@Override
	public Result unwrap() {
		return delegate;
	}
}
