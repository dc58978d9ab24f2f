package io.tether.pool.internal;

import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * Runs {@code source} to its end even if the subscriber cancels (a cancel only stops the terminal
 * signal), then runs {@code onDone} once the source has terminated <em>and</em> its {@code subscribe}
 * call has returned.
 *
 * <p>The second condition matters for releases: reactor-pool signals a release complete from inside its
 * recycling, before it has finished putting the connection back. {@code onDone} runs after that work, so
 * a pool close that waits for it never disposes the pool in the middle of a recycle.
 */
final class Uncancellable extends Mono<Void> {

	private final Publisher<Void> source;
	private final Runnable onDone;

	Uncancellable(Publisher<Void> source, Runnable onDone) {
		this.source = source;
		this.onDone = onDone;
	}

	@Override
	public void subscribe(CoreSubscriber<? super Void> actual) {
		Inner inner = new Inner(actual, onDone);
		try {
			source.subscribe(inner);
		}
		catch (Throwable t) {
			inner.onError(t);
		}
		inner.arrive();
	}

	/** Subscribes with no one listening; errors go to {@link Operators#onErrorDropped}. */
	static void runDetached(Publisher<Void> source, Runnable onDone) {
		new Uncancellable(source, onDone).subscribe(new Detached());
	}

	private static final class Inner implements CoreSubscriber<Void>, Subscription {

		private final CoreSubscriber<? super Void> actual;
		private final Runnable onDone;
		private final AtomicInteger arrivals = new AtomicInteger();
		private volatile boolean cancelled;
		private boolean subscribed;

		Inner(CoreSubscriber<? super Void> actual, Runnable onDone) {
			this.actual = actual;
			this.onDone = onDone;
		}

		@Override
		public Context currentContext() {
			return actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription s) {
			subscribed = true;
			actual.onSubscribe(this);
			s.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(Void v) {
		}

		@Override
		public void onError(Throwable t) {
			if (!subscribed) {
				subscribed = true;
				actual.onSubscribe(this);
			}
			if (cancelled) {
				Operators.onErrorDropped(t, actual.currentContext());
			}
			else {
				actual.onError(t);
			}
			arrive();
		}

		@Override
		public void onComplete() {
			if (!cancelled) {
				actual.onComplete();
			}
			arrive();
		}

		@Override
		public void request(long n) {
		}

		@Override
		public void cancel() {
			cancelled = true;
		}

		void arrive() {
			if (arrivals.incrementAndGet() == 2) {
				onDone.run();
			}
		}
	}

	private static final class Detached implements CoreSubscriber<Void> {

		@Override
		public void onSubscribe(Subscription s) {
			s.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(Void v) {
		}

		@Override
		public void onError(Throwable t) {
			Operators.onErrorDropped(t, Context.empty());
		}

		@Override
		public void onComplete() {
		}
	}
}
