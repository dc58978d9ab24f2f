/**
 * Implementation of {@code io.tether.pool}; not API, may change in any release.
 */
@NullMarked
package io.tether.pool.internal;

import org.jspecify.annotations.NullMarked;
