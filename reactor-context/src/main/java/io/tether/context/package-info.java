/**
 * R2DBC connections bound to the Reactor subscriber {@link reactor.util.context.Context}.
 *
 * <p>{@link io.tether.context.ConnectionScope} is the entry point: it opens a connection when a
 * pipeline is subscribed, shares it with every nested call of that pipeline, and releases it exactly
 * once when the pipeline completes, fails or is cancelled. Transactions sit on top of the same binding.
 */
@NullMarked
package io.tether.context;

import org.jspecify.annotations.NullMarked;
