/**
 * JMH benchmarks that measure Tether against the hand-written R2DBC/Reactor code it replaces, in the same
 * JVM, over the same pool, so that the ratios between them mean something even on a noisy machine.
 *
 * <p>Not a library: nothing depends on this package. See {@code benchmarks/README.md} for how to run it.
 */
@NullMarked
package io.tether.benchmarks;

import org.jspecify.annotations.NullMarked;
