package io.tether.context.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * Runs a publisher that nobody waits for any more: the release after a cancel, the drain of a result read
 * outside any lease, the server's cancel request. These are the only places where Tether starts a
 * subscription of its own; items are discarded, errors go to {@link Operators#onErrorDropped}, and an
 * optional callback runs once when the publisher has terminated.
 */
final class DroppingSubscriber implements CoreSubscriber<Object> {

	private static final AtomicIntegerFieldUpdater<DroppingSubscriber> ENDED =
			AtomicIntegerFieldUpdater.newUpdater(DroppingSubscriber.class, "ended");

	private final Context context;
	private final @Nullable Runnable onEnd;
	private volatile int ended;

	private DroppingSubscriber(Context context, @Nullable Runnable onEnd) {
		this.context = context;
		this.onEnd = onEnd;
	}

	static void run(Publisher<?> publisher, Context context) {
		publisher.subscribe(new DroppingSubscriber(context, null));
	}

	/** {@link #run(Publisher, Context)}, then {@code onEnd} once the publisher has completed or failed. */
	static void run(Publisher<?> publisher, Context context, Runnable onEnd) {
		publisher.subscribe(new DroppingSubscriber(context, onEnd));
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
		end();
	}

	@Override
	public void onComplete() {
		end();
	}

	private void end() {
		Runnable r = onEnd;
		if (r != null && ENDED.compareAndSet(this, 0, 1)) {
			r.run();
		}
	}
}
