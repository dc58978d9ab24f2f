package io.tether.context.internal;

import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;

/** A scope around a body of any number of items. */
final class ScopeFlux<R, T> extends Flux<T> {

	private final ScopeSpec<R> spec;
	private final Function<? super R, ? extends Publisher<? extends T>> body;

	ScopeFlux(ScopeSpec<R> spec, Function<? super R, ? extends Publisher<? extends T>> body) {
		this.spec = spec;
		this.body = body;
	}

	@Override
	public void subscribe(CoreSubscriber<? super T> actual) {
		new ScopeSubscriber<R, T>(actual, spec, body, false).start();
	}
}
