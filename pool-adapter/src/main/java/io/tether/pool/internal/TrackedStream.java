package io.tether.pool.internal;

import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

/**
 * A statement execution or result consumption of a {@link PooledConnection}, counted as one of its
 * streams while it runs (see {@link PooledConnection#track}), each item passed through {@code mapper}.
 * One operator: this wraps every execution and every consumption of every pooled statement, where
 * {@code defer} plus four {@code doOn...} operators and a {@code map} cost a dozen subscriptions.
 */
final class TrackedStream<T, R> extends Flux<R> {

	private final PooledConnection connection;
	private final Publisher<T> source;
	private final boolean endsWithFirst;
	private final Function<? super T, ? extends R> mapper;

	TrackedStream(PooledConnection connection, Publisher<T> source, boolean endsWithFirst,
			Function<? super T, ? extends R> mapper) {
		this.connection = connection;
		this.source = source;
		this.endsWithFirst = endsWithFirst;
		this.mapper = mapper;
	}

	@Override
	public void subscribe(CoreSubscriber<? super R> actual) {
		if (connection.isClosed()) {
			Operators.error(actual, connection.closedError());
			return;
		}
		long seq = connection.streamStarted();
		source.subscribe(new TrackedSubscriber<>(actual, this, seq));
	}

	private static final class TrackedSubscriber<T, R> extends CountingSubscriber<T, R> {

		private final TrackedStream<T, R> parent;
		private final long seq;
		private volatile boolean gotFirst;
		private boolean done;

		TrackedSubscriber(CoreSubscriber<? super R> actual, TrackedStream<T, R> parent, long seq) {
			super(actual);
			this.parent = parent;
			this.seq = seq;
		}

		@Override
		void ended(int how) {
			PooledConnection c = parent.connection;
			switch (how) {
				case COMPLETED -> c.streamCompleted(seq);
				case FAILED -> c.streamFailed();
				default -> c.streamCancelled(seq, parent.endsWithFirst && gotFirst);
			}
		}

		@Override
		public void onNext(T t) {
			if (done) {
				Operators.onNextDropped(t, actual.currentContext());
				return;
			}
			gotFirst = true;
			R r;
			try {
				r = parent.mapper.apply(t);
			}
			catch (Throwable e) {
				upstream.cancel();
				onError(Operators.onOperatorError(e, actual.currentContext()));
				return;
			}
			actual.onNext(r);
		}

		@Override
		public void onError(Throwable t) {
			if (done) {
				Operators.onErrorDropped(t, actual.currentContext());
				return;
			}
			done = true;
			parent.connection.observe(t);
			super.onError(t);
		}

		@Override
		public void onComplete() {
			if (done) {
				return;
			}
			done = true;
			super.onComplete();
		}
	}
}
