package io.tether.context;

/**
 * Raised by {@link ConnectionScope#currentConnection()} and friends when the subscriber Context has no
 * connection bound for the scope's factory: the pipeline is not wrapped in a scope, or the Context was
 * lost on the way (a hand-made {@code subscribe()}, {@code toFuture()}, or a publisher built and
 * subscribed outside the pipeline).
 *
 * @since 0.1
 */
public class NoBoundConnectionException extends TetherException {

	private static final long serialVersionUID = 1L;

	public NoBoundConnectionException(String message) {
		super(message);
	}
}
