package io.tether.pool;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Receives pool events, e.g. to feed metrics ({@link io.tether.pool.micrometer.PoolMeters} is one).
 * Register with {@link TetherPool#addListener(PoolListener)}. Every method has a no-op default.
 *
 * <p>Methods are called synchronously on whatever thread the event happens on, often a driver I/O thread
 * or a timer: they must be cheap and must not block. An exception thrown by a listener is logged and
 * otherwise ignored.
 *
 * @since 0.1
 */
public interface PoolListener {

	/** A connection was handed out to an application after waiting {@code waited} (opening and validation included). */
	default void acquired(Duration waited) {
	}

	/** An application returned a connection it held for {@code held}. */
	default void released(Duration held) {
	}

	/** An acquisition gave up after {@code waited} ({@link PoolAcquireTimeoutException}; {@code ZERO} in fail-fast mode). */
	default void timedOut(Duration waited) {
	}

	/**
	 * A connection has been held for {@code held}, longer than {@link PoolSettings#leakDetectionThreshold()};
	 * called once per checkout. {@code acquiredAt} carries the stack of the acquiring code.
	 */
	default void leakSuspected(Duration held, @Nullable Throwable acquiredAt) {
	}

	/**
	 * A connection is being closed for {@code reason}: {@code "maxLifetime"}, {@code "maxIdleTime"},
	 * {@code "maxIdle"}, {@code "maxUses"}, {@code "validation"} or {@code "broken"}. Not called for
	 * connections closed because the pool closes.
	 */
	default void evicted(String reason) {
	}

	/** A validation (on acquire or keep-alive) failed with {@code error}, or returned {@code false} (then a {@link IllegalStateException}). */
	default void validationFailed(Throwable error) {
	}

	/** A physical connection was opened (init SQL included) in {@code took}. */
	default void created(Duration took) {
	}

	/** A physical connection was closed. */
	default void destroyed() {
	}
}
