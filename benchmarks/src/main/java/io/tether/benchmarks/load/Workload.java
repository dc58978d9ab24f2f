package io.tether.benchmarks.load;

import java.util.Locale;

/**
 * What one operation is, and how many are in flight at once.
 *
 * <ul>
 *   <li>{@code W1}: {@code select id, email, is_active from users where id = ?} for a random id, mapped to a
 *       {@link User};</li>
 *   <li>{@code W2}: two W1 selects (ids {@code a} and {@code b}) and {@code update users set login_count =
 *       login_count + 1 where id = a}, in one transaction.</li>
 * </ul>
 */
record Workload(String kind, int inFlight) {

	Workload {
		if (!kind.equals("w1") && !kind.equals("w2")) {
			throw new IllegalArgumentException("workload must be w1 or w2, was " + kind);
		}
		if (inFlight < 1) {
			throw new IllegalArgumentException("operations in flight must be >= 1, was " + inFlight);
		}
	}

	/** {@code w1:32} → W1 with 32 in flight. */
	static Workload parse(String text) {
		int colon = text.indexOf(':');
		if (colon < 0) {
			throw new IllegalArgumentException("a workload is KIND:IN_FLIGHT, e.g. w1:32, was " + text);
		}
		return new Workload(text.substring(0, colon).toLowerCase(Locale.ROOT), Integer.parseInt(text.substring(colon + 1)));
	}

	boolean isW2() {
		return kind.equals("w2");
	}

	@Override
	public String toString() {
		return kind + ":" + inFlight;
	}
}
