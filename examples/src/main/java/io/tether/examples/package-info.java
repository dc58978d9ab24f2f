/**
 * Runnable demonstrations of Tether.
 */
@NullMarked
package io.tether.examples;

import org.jspecify.annotations.NullMarked;
