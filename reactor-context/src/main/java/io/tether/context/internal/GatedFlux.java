package io.tether.context.internal;

import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

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
	private final @Nullable GatedResult result;
	private final @Nullable AtomicBoolean draining;
	private final boolean wrapResults;

	private GatedFlux(Publisher<T> source, StatementGate gate, @Nullable Lease parent, @Nullable GatedResult result,
			@Nullable AtomicBoolean draining, boolean wrapResults) {
		this.source = source;
		this.gate = gate;
		this.parent = parent;
		this.result = result;
		this.draining = draining;
		this.wrapResults = wrapResults;
	}

	static <T> GatedFlux<T> operation(Publisher<T> source, StatementGate gate) {
		return new GatedFlux<>(source, gate, null, null, null, false);
	}

	/** An {@code execute()}: its {@link io.r2dbc.spi.Result}s are consumed under its lease. */
	static <T> GatedFlux<T> execution(Publisher<T> source, StatementGate gate) {
		return new GatedFlux<>(source, gate, null, null, null, true);
	}

	/**
	 * The consumption of {@code result}; {@code draining}, if given, is set when a cancel turns it into a
	 * drain, so that the mapping function stops calling the application's.
	 */
	static <T> GatedFlux<T> consumption(Publisher<T> source, StatementGate gate, Lease parent, GatedResult result,
			@Nullable AtomicBoolean draining) {
		return new GatedFlux<>(source, gate, parent, result, draining, false);
	}

	@Override
	public void subscribe(CoreSubscriber<? super T> actual) {
		Lease p = parent;
		if (p == null) {
			GatedSubscriber<T> s = new GatedSubscriber<>(actual, wrapResults, gate.bound(), null);
			Lease lease = new Lease(gate, source, s);
			s.lease(lease);
			actual.onSubscribe(s);
			gate.enter(lease);
			return;
		}
		GatedResult r = result;
		p.listen();
		if (r != null && !r.claim()) {
			p.stopListening();
			Operators.error(actual, new IllegalStateException("This result was already consumed, or drained because "
					+ "its execution was cancelled before the result was consumed; a result can be consumed once"));
			return;
		}
		if (p.retain()) {
			GatedSubscriber<T> s = new GatedSubscriber<>(actual, false, gate.bound(), draining);
			s.lease(p);
			// The result is claimed: it is read to its end even if the downstream cancels within onSubscribe.
			s.startSubscribing();
			actual.onSubscribe(s);
			p.register(s);
			source.subscribe(s);
		}
		else {
			// The operation is over (its lease is gone: the driver had buffered the whole result). The driver
			// alone orders this consumption, but a cancel still drains it rather than cancelling the driver.
			p.stopListening();
			GatedSubscriber<T> s = new GatedSubscriber<>(actual, false, gate.bound(), draining);
			gate.straggle();
			s.straggling(gate);
			s.startSubscribing();
			actual.onSubscribe(s);
			source.subscribe(s);
		}
	}
}
