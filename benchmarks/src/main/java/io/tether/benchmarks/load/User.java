package io.tether.benchmarks.load;

/** The row of W1: {@code is_active} maps to {@code isActive} by Tether's column-name rules. */
public record User(long id, String email, boolean isActive) {
}
