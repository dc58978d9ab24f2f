package io.tether.pool.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * A connection operation of a {@link PooledConnection} (BEGIN, COMMIT, ROLLBACK, SET ...), counted as in
 * flight from its subscription until its answer, or as interrupted if cancelled before it (see
 * {@link PooledConnection#operationUnanswered()}); its error is observed for broken-connection detection.
 * The operation is created at subscription. One operator where {@code defer} and three {@code doOn...}
 * operators cost four subscriptions on every transaction command.
 */
final class GuardedOperation extends Mono<Void> {

	private final PooledConnection connection;
	private final Supplier<? extends Publisher<Void>> operation;

	GuardedOperation(PooledConnection connection, Supplier<? extends Publisher<Void>> operation) {
		this.connection = connection;
		this.operation = operation;
	}

	@Override
	public void subscribe(CoreSubscriber<? super Void> actual) {
		if (connection.isClosed()) {
			Operators.error(actual, connection.closedError());
			return;
		}
		Publisher<Void> op;
		try {
			op = operation.get();
		}
		catch (Throwable e) {
			Operators.error(actual, Operators.onOperatorError(e, actual.currentContext()));
			return;
		}
		connection.operationStarted();
		op.subscribe(new GuardedSubscriber(actual, connection));
	}

	private static final class GuardedSubscriber implements CoreSubscriber<Void>, Subscription {

		private static final AtomicIntegerFieldUpdater<GuardedSubscriber> ENDED =
				AtomicIntegerFieldUpdater.newUpdater(GuardedSubscriber.class, "ended");

		private final CoreSubscriber<? super Void> actual;
		private final PooledConnection connection;
		private @Nullable Subscription upstream;
		private volatile int ended;

		GuardedSubscriber(CoreSubscriber<? super Void> actual, PooledConnection connection) {
			this.actual = actual;
			this.connection = connection;
		}

		@Override
		public Context currentContext() {
			return actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription s) {
			if (Operators.validate(upstream, s)) {
				upstream = s;
				actual.onSubscribe(this);
			}
		}

		@Override
		public void onNext(Void v) {
			// A Publisher<Void> emits nothing.
		}

		@Override
		public void onError(Throwable t) {
			connection.observe(t);
			// Counted off before the answer is passed on: the release may run in the downstream's onError.
			if (ENDED.compareAndSet(this, 0, 1)) {
				connection.operationEnded(false);
			}
			actual.onError(t);
		}

		@Override
		public void onComplete() {
			if (ENDED.compareAndSet(this, 0, 1)) {
				connection.operationEnded(false);
			}
			actual.onComplete();
		}

		@Override
		public void request(long n) {
			upstream.request(n);
		}

		@Override
		public void cancel() {
			if (ENDED.compareAndSet(this, 0, 1)) {
				connection.operationEnded(true);
			}
			upstream.cancel();
		}
	}
}
