package io.tether.core.internal;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.core.publisher.SignalType;
import reactor.util.context.Context;

/**
 * Statement logging of one database on logger {@code io.tether.sql}: each statement at DEBUG when it starts
 * and ends, and at WARN when it ran longer than the slow-statement threshold (measured from subscription
 * to termination, so it includes waiting for a connection). Bind values only when enabled.
 */
public final class StatementLog {

	static final String LOGGER_NAME = "io.tether.sql";

	private final Logger logger;
	private final String database;
	private final long slowNanos;
	private final boolean logBindValues;
	private final boolean bindValuesInErrors;
	private final boolean serverErrorDetail;

	public StatementLog(String database, Duration slowThreshold, boolean logBindValues, boolean bindValuesInErrors,
			boolean serverErrorDetail) {
		this(LoggerFactory.getLogger(LOGGER_NAME), database, slowThreshold, logBindValues, bindValuesInErrors, serverErrorDetail);
	}

	StatementLog(Logger logger, String database, Duration slowThreshold, boolean logBindValues, boolean bindValuesInErrors) {
		this(logger, database, slowThreshold, logBindValues, bindValuesInErrors, false);
	}

	StatementLog(Logger logger, String database, Duration slowThreshold, boolean logBindValues, boolean bindValuesInErrors,
			boolean serverErrorDetail) {
		this.logger = logger;
		this.database = database;
		this.slowNanos = slowThreshold.isZero() ? Long.MAX_VALUE : slowThreshold.toNanos();
		this.logBindValues = logBindValues;
		this.bindValuesInErrors = bindValuesInErrors;
		this.serverErrorDetail = serverErrorDetail;
	}

	/** {@code error} translated, with the bind values in its message only if the user opted in. */
	public Throwable translate(Throwable error, String sql, @Nullable BoundSql bound) {
		return ErrorTranslator.translate(error, sql,
				bindValuesInErrors && bound != null && !bound.values().isEmpty() ? describe(bound.values()) : null,
				serverErrorDetail);
	}

	/** {@code error} of a scope (no statement of its own) translated. */
	public Throwable translate(Throwable error) {
		return ErrorTranslator.translate(error, null, null, serverErrorDetail);
	}

	/** The database name this log reports for. */
	public String database() {
		return database;
	}

	/**
	 * {@code statement} with logging around each subscription. Called at subscription time of the
	 * statement, so the start time is per subscription.
	 */
	public <T> Flux<T> around(String sql, BoundSql bound, Flux<T> statement) {
		boolean debug = logger.isDebugEnabled();
		if (!debug && slowNanos == Long.MAX_VALUE) {
			return statement;
		}
		long start = System.nanoTime();
		if (debug) {
			if (logBindValues && !bound.values().isEmpty()) {
				logger.debug("[{}] executing: {} with values {}", database, bound.sql(), describe(bound.values()));
			}
			else {
				logger.debug("[{}] executing: {}", database, bound.sql());
			}
		}
		return new Timed<>(statement, this, sql, bound, start);
	}

	/**
	 * Logs the end of a statement before its signal goes downstream ({@code doFinally} would run after it), so
	 * a subscriber that has seen the end of the statement also sees its log line. One operator instead of a
	 * {@code doOnComplete}, {@code doOnError} and {@code doOnCancel} each: this runs for every statement.
	 */
	private static final class Timed<T> extends Flux<T> {

		private final Flux<T> source;
		private final StatementLog log;
		private final String sql;
		private final BoundSql bound;
		private final long start;

		Timed(Flux<T> source, StatementLog log, String sql, BoundSql bound, long start) {
			this.source = source;
			this.log = log;
			this.sql = sql;
			this.bound = bound;
			this.start = start;
		}

		@Override
		public void subscribe(CoreSubscriber<? super T> actual) {
			source.subscribe(new TimedSubscriber<>(actual, this));
		}
	}

	private static final class TimedSubscriber<T> implements CoreSubscriber<T>, Subscription {

		private final CoreSubscriber<? super T> actual;
		private final Timed<T> timed;
		private @Nullable Subscription upstream;
		private volatile boolean ended;

		TimedSubscriber(CoreSubscriber<? super T> actual, Timed<T> timed) {
			this.actual = actual;
			this.timed = timed;
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
		public void onNext(T t) {
			actual.onNext(t);
		}

		@Override
		public void onError(Throwable t) {
			end(SignalType.ON_ERROR);
			actual.onError(t);
		}

		@Override
		public void onComplete() {
			end(SignalType.ON_COMPLETE);
			actual.onComplete();
		}

		@Override
		public void request(long n) {
			upstream.request(n);
		}

		@Override
		public void cancel() {
			end(SignalType.CANCEL);
			upstream.cancel();
		}

		private void end(SignalType signal) {
			if (!ended) {
				ended = true;
				timed.log.finished(timed.sql, timed.bound, signal, System.nanoTime() - timed.start);
			}
		}
	}

	private void finished(String sql, BoundSql bound, SignalType signal, long nanos) {
		if (nanos >= slowNanos) {
			long millis = Duration.ofNanos(nanos).toMillis();
			if (logBindValues && !bound.values().isEmpty()) {
				logger.warn("[{}] slow statement: {} ms (threshold {} ms, {}): {} with values {}", database, millis,
						Duration.ofNanos(slowNanos).toMillis(), outcome(signal), sql, describe(bound.values()));
			}
			else {
				logger.warn("[{}] slow statement: {} ms (threshold {} ms, {}): {}", database, millis,
						Duration.ofNanos(slowNanos).toMillis(), outcome(signal), sql);
			}
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("[{}] {} after {} µs: {}", database, outcome(signal), nanos / 1_000, sql);
		}
	}

	private static String outcome(SignalType signal) {
		return switch (signal) {
			case ON_COMPLETE -> "completed";
			case ON_ERROR -> "failed";
			case CANCEL -> "cancelled";
			default -> signal.toString();
		};
	}

	private static String describe(List<Object> values) {
		StringBuilder out = new StringBuilder("[");
		for (int i = 0; i < values.size(); i++) {
			if (i > 0) {
				out.append(", ");
			}
			Object value = values.get(i);
			out.append(value instanceof NullValue n ? "NULL(" + n.type().getSimpleName() + ")" : String.valueOf(value));
		}
		return out.append(']').toString();
	}
}
