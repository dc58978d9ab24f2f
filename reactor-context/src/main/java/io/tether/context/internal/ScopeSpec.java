package io.tether.context.internal;

import org.reactivestreams.Publisher;
import reactor.util.context.Context;

/**
 * The resource side of a scope: how to obtain the resource, what to put in the body's Context, and
 * what to run when the body completes, fails or is cancelled. See {@link ScopeSubscriber}.
 */
abstract class ScopeSpec<R> {

	/** Obtains the resource. Never cancelled: if the scope is cancelled meanwhile, {@link #onCancel} cleans up. */
	abstract Publisher<? extends R> acquire(Context outer);

	/** The Context the body runs with. */
	Context bind(Context outer, R resource) {
		return outer;
	}

	abstract Publisher<Void> onComplete(R resource);

	abstract Publisher<Void> onError(R resource, Throwable error);

	abstract Publisher<Void> onCancel(R resource);
}
