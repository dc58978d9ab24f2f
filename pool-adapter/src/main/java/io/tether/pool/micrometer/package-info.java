/**
 * Optional Micrometer binding of {@link io.tether.pool.TetherPool}; needs {@code micrometer-core} on the
 * class path (it is an optional dependency of this module).
 */
@NullMarked
package io.tether.pool.micrometer;

import org.jspecify.annotations.NullMarked;
