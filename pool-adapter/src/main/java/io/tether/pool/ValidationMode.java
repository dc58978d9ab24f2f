package io.tether.pool;

/**
 * When a pooled connection is checked before it is handed out.
 *
 * <p>A connection that fails its check is destroyed (reported to
 * {@link PoolListener#evicted(String) evicted("validation")}) and the acquisition goes on with another
 * idle connection or a new one, within the same acquire timeout. A connection that the pool has just
 * created for the acquisition is never validated remotely: it has just proved the server answers.
 *
 * @since 0.1
 */
public enum ValidationMode {

	/** No check: the connection is handed out as it is. */
	NEVER,

	/**
	 * A local check on every checkout ({@link io.r2dbc.spi.Connection#validate} with
	 * {@link io.r2dbc.spi.ValidationDepth#LOCAL}, e.g. "is the socket still open"), no round trip.
	 */
	ON_ACQUIRE_LOCAL,

	/**
	 * A remote check on every checkout: {@link PoolSettings#validationQuery()} if set, otherwise
	 * {@link io.r2dbc.spi.ValidationDepth#REMOTE} validation. One round trip per checkout.
	 */
	ON_ACQUIRE_REMOTE,

	/**
	 * A local check on every checkout, and a remote one only when the connection has been idle (neither
	 * used, nor validated, nor kept alive) for longer than {@link PoolSettings#validationIdleThreshold()}.
	 * The default: catches connections the server or a firewall dropped while idle, without a round trip
	 * for connections in steady use.
	 */
	ON_ACQUIRE_IF_IDLE
}
