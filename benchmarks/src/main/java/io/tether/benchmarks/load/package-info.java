/**
 * A PostgreSQL load runner (not JMH): a closed loop with a fixed number of operations in flight, a warm-up
 * and a measured window in the same JVM, every peer in a JVM of its own, repetitions interleaved across the
 * peers. {@link io.tether.benchmarks.load.LoadRunner} is the entry point; {@code benchmarks/README.md} says
 * how to run it and how to read its table.
 */
@NullMarked
package io.tether.benchmarks.load;

import org.jspecify.annotations.NullMarked;
