package io.tether.core;

import io.tether.core.internal.ErrorTranslator;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.util.retry.Retry;

/**
 * When and how {@link Database#inTransaction(io.tether.context.TransactionOptions, RetryPolicy, reactor.core.publisher.Mono)}
 * runs a failed transaction again. Databases that use optimistic concurrency (PostgreSQL at
 * {@code SERIALIZABLE}, CockroachDB, YugabyteDB) abort one of two conflicting transactions with SQLState
 * 40001 and expect the client to retry it; deadlocks (40P01) are resolved the same way.
 *
 * <pre>{@code
 * RetryPolicy retry = RetryPolicy.onConflict(5).backoff(Duration.ofMillis(10), Duration.ofMillis(500));
 * db.inTransaction(TransactionOptions.builder().isolationLevel(IsolationLevel.SERIALIZABLE).build(), retry, transfer);
 * }</pre>
 *
 * <p>Immutable. Back-off is exponential from {@code minBackoff} to {@code maxBackoff} with 50% jitter, on
 * Reactor's parallel scheduler (so {@code StepVerifier.withVirtualTime} controls it). When the retries are
 * used up the last error is signalled as it is.
 *
 * @since 0.1
 */
public final class RetryPolicy {

	private static final Logger log = LoggerFactory.getLogger("io.tether.sql");
	private static final RetryPolicy NONE = new RetryPolicy(0, Duration.ofMillis(20), Duration.ofSeconds(1), ErrorTranslator::isRetryable);

	private final int maxRetries;
	private final Duration minBackoff;
	private final Duration maxBackoff;
	private final Predicate<? super Throwable> retryable;

	private RetryPolicy(int maxRetries, Duration minBackoff, Duration maxBackoff, Predicate<? super Throwable> retryable) {
		this.maxRetries = maxRetries;
		this.minBackoff = minBackoff;
		this.maxBackoff = maxBackoff;
		this.retryable = retryable;
	}

	/** Never retry. */
	public static RetryPolicy none() {
		return NONE;
	}

	/**
	 * Retry up to {@code maxRetries} times (so at most {@code maxRetries + 1} attempts) on serialization
	 * failures and deadlocks ({@link ConcurrencyFailureException}s that say so), with back-off from 20 ms to 1 s.
	 */
	public static RetryPolicy onConflict(int maxRetries) {
		if (maxRetries < 0) {
			throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries);
		}
		return new RetryPolicy(maxRetries, NONE.minBackoff, NONE.maxBackoff, NONE.retryable);
	}

	/** This policy with back-off from {@code min} (first retry) growing up to {@code max}. */
	public RetryPolicy backoff(Duration min, Duration max) {
		Objects.requireNonNull(min, "min must not be null");
		Objects.requireNonNull(max, "max must not be null");
		if (min.isNegative()) {
			throw new IllegalArgumentException("min backoff must be >= 0, was " + min);
		}
		if (max.compareTo(min) < 0) {
			throw new IllegalArgumentException("max backoff must be >= min backoff (" + min + "), was " + max);
		}
		return new RetryPolicy(maxRetries, min, max, retryable);
	}

	/** This policy retrying the (translated) errors {@code retryable} accepts, instead of conflicts only. */
	public RetryPolicy retryIf(Predicate<? super Throwable> retryable) {
		return new RetryPolicy(maxRetries, minBackoff, maxBackoff, Objects.requireNonNull(retryable, "retryable must not be null"));
	}

	/** How many times a transaction is run again at most. */
	public int maxRetries() {
		return maxRetries;
	}

	/** The first back-off. */
	public Duration minBackoff() {
		return minBackoff;
	}

	/** The longest back-off. */
	public Duration maxBackoff() {
		return maxBackoff;
	}

	Retry toRetry(String database) {
		return Retry.backoff(maxRetries, minBackoff)
				.maxBackoff(maxBackoff)
				.jitter(0.5)
				.filter(retryable)
				.doBeforeRetry(signal -> log.debug("{}: retrying transaction (retry {} of {}) after {}", database,
						signal.totalRetries() + 1, maxRetries, signal.failure().toString()))
				.onRetryExhaustedThrow((spec, signal) -> signal.failure());
	}

	@Override
	public String toString() {
		return maxRetries == 0 ? "RetryPolicy[none]"
				: "RetryPolicy[maxRetries=" + maxRetries + ", backoff=" + minBackoff + ".." + maxBackoff + "]";
	}
}
