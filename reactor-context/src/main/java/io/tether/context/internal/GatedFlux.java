package io.tether.context.internal;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;

/**
 * A driver publisher behind the {@link StatementGate}. Two kinds:
 * <ul>
 *   <li>an operation ({@code parent == null}): takes a new lease and waits for its turn;</li>
 *   <li>a result consumption ({@code parent != null}): runs under the lease of the operation that
 *       produced the result, if that lease is still held; otherwise it runs as is.</li>
 * </ul>
 */
final class GatedFlux<T> extends Flux<T> {

	private final Publisher<T> source;
	private final StatementGate gate;
	private final @Nullable Lease parent;
	private final boolean wrapResults;

	private GatedFlux(Publisher<T> source, StatementGate gate, @Nullable Lease parent,
			boolean wrapResults) {
		this.source = source;
		this.gate = gate;
		this.parent = parent;
		this.wrapResults = wrapResults;
	}

	static <T> GatedFlux<T> operation(Publisher<T> source, StatementGate gate) {
		return new GatedFlux<>(source, gate, null, false);
	}

	/** An {@code execute()}: its {@link io.r2dbc.spi.Result}s are consumed under its lease. */
	static <T> GatedFlux<T> execution(Publisher<T> source, StatementGate gate) {
		return new GatedFlux<>(source, gate, null, true);
	}

	static <T> GatedFlux<T> consumption(Publisher<T> source, StatementGate gate, Lease parent) {
		return new GatedFlux<>(source, gate, parent, false);
	}

	@Override
	public void subscribe(CoreSubscriber<? super T> actual) {
		Lease p = parent;
		if (p == null) {
			GatedSubscriber<T> s = new GatedSubscriber<>(actual, wrapResults);
			Lease lease = new Lease(gate, source, s);
			s.lease(lease);
			actual.onSubscribe(s);
			gate.enter(lease);
		}
		else if (p.retain()) {
			GatedSubscriber<T> s = new GatedSubscriber<>(actual, false);
			s.lease(p);
			actual.onSubscribe(s);
			p.register(s);
			source.subscribe(s);
		}
		else {
			Flux.from(source).subscribe(actual);
		}
	}
}
