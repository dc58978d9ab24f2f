package io.tether.core.internal;

/**
 * How a driver spells the marker of the {@code i}-th bound value (zero-based, counted per occurrence in
 * the SQL text, so a name used twice takes two markers and a collection of three takes three).
 *
 * @since 0.1
 */
@FunctionalInterface
public interface BindMarkers {

	/** {@code $1, $2, ...}: PostgreSQL (r2dbc-postgresql) and H2 (r2dbc-h2). */
	BindMarkers POSTGRES_STYLE = NamedSqlMarkers::dollar;

	/** {@code ?} for every value: MariaDB and MySQL. */
	BindMarkers QUESTION_MARK = NamedSqlMarkers::questionMark;

	/**
	 * The marker text for the value at {@code zeroBasedIndex}.
	 *
	 * @throws IllegalArgumentException if the index is negative
	 */
	String marker(int zeroBasedIndex);
}
