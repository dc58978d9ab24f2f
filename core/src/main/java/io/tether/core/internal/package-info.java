/**
 * Implementation of {@code io.tether.core}; not API, may change in any release.
 */
@NullMarked
package io.tether.core.internal;

import org.jspecify.annotations.NullMarked;
