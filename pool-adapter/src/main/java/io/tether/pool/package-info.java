/**
 * Placeholder package of the {@code pool-adapter} module; its API arrives with the module's own issue.
 */
@NullMarked
package io.tether.pool;

import org.jspecify.annotations.NullMarked;
