/**
 * Placeholder package of the {@code core} module; its API arrives with the module's own issue.
 */
@NullMarked
package io.tether.core;

import org.jspecify.annotations.NullMarked;
