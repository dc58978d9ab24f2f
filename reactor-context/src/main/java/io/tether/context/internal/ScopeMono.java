package io.tether.context.internal;

import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;

/** A scope around a body of at most one item. */
final class ScopeMono<R, T> extends Mono<T> {

	private final ScopeSpec<R> spec;
	private final Function<? super R, ? extends Publisher<? extends T>> body;

	ScopeMono(ScopeSpec<R> spec, Function<? super R, ? extends Publisher<? extends T>> body) {
		this.spec = spec;
		this.body = body;
	}

	@Override
	public void subscribe(CoreSubscriber<? super T> actual) {
		new ScopeSubscriber<R, T>(actual, spec, body, true).start();
	}
}
