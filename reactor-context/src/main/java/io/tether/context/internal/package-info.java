/**
 * Implementation of {@code io.tether.context}; not API, may change in any release.
 */
@NullMarked
package io.tether.context.internal;

import org.jspecify.annotations.NullMarked;
