package io.tether.core;

import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;

/**
 * Turns one result row into an object. Called once per row, on the thread that delivers the row, while the
 * row is valid: an implementation must read every value it needs before returning and must not keep the
 * {@link Row} (drivers may release or reuse its buffers afterwards).
 *
 * <p>An exception thrown by {@link #map} fails the result it is mapping: the statement's publisher signals it
 * as {@code onError} and the remaining rows are discarded.
 *
 * @param <T> the type of the mapped object
 * @since 0.1
 */
@FunctionalInterface
public interface RowMapper<T> {

	/**
	 * Maps one row.
	 *
	 * @param row the current row, valid only during this call
	 * @param metadata the columns of the row
	 * @return the mapped object
	 */
	T map(Row row, RowMetadata metadata);
}
