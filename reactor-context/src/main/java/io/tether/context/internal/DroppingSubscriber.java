package io.tether.context.internal;

import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * Runs a cleanup publisher that nobody waits for any more: the release after a cancel. This is the one
 * place where Tether starts a subscription of its own; errors go to {@link Operators#onErrorDropped}.
 */
final class DroppingSubscriber implements CoreSubscriber<Object> {

	private final Context context;

	private DroppingSubscriber(Context context) {
		this.context = context;
	}

	static void run(Publisher<?> cleanup, Context context) {
		cleanup.subscribe(new DroppingSubscriber(context));
	}

	@Override
	public Context currentContext() {
		return context;
	}

	@Override
	public void onSubscribe(Subscription s) {
		s.request(Long.MAX_VALUE);
	}

	@Override
	public void onNext(Object o) {
		Operators.onDiscard(o, context);
	}

	@Override
	public void onError(Throwable t) {
		Operators.onErrorDropped(t, context);
	}

	@Override
	public void onComplete() {
	}
}
