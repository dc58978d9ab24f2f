package io.tether.pool.internal;

import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

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

	private static final class GuardedSubscriber extends CountingSubscriber<Void, Void> {

		private final PooledConnection connection;

		GuardedSubscriber(CoreSubscriber<? super Void> actual, PooledConnection connection) {
			super(actual);
			this.connection = connection;
		}

		@Override
		void ended(int how) {
			// Counted off before the answer is passed on: the release may run in the downstream's signal.
			connection.operationEnded(how == CANCELLED);
		}

		@Override
		public void onNext(Void v) {
			// A Publisher<Void> emits nothing.
		}

		@Override
		public void onError(Throwable t) {
			connection.observe(t);
			super.onError(t);
		}
	}
}
