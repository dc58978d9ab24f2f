package io.tether.core.internal;

/** The built-in {@link BindMarkers}; the common {@code $n} markers are made once, not on every bind. */
final class NamedSqlMarkers {

	private static final String[] DOLLAR = new String[256];

	static {
		for (int i = 0; i < DOLLAR.length; i++) {
			DOLLAR[i] = "$" + (i + 1);
		}
	}

	private NamedSqlMarkers() {
	}

	static String dollar(int index) {
		checkIndex(index);
		return index < DOLLAR.length ? DOLLAR[index] : "$" + (index + 1);
	}

	static String questionMark(int index) {
		checkIndex(index);
		return "?";
	}

	private static void checkIndex(int index) {
		if (index < 0) {
			throw new IllegalArgumentException("zeroBasedIndex must be >= 0, was " + index);
		}
	}
}
