package io.tether.core.internal;

import java.util.List;
import java.util.Objects;

/**
 * SQL ready for the driver: named parameters replaced by the driver's bind markers, and the values to bind
 * by position, in marker order (value {@code i} belongs to marker {@code i}). A typed {@code NULL} is a
 * {@link NullValue}; no element is {@code null}. The list built by {@link ParsedSql#bind} is unmodifiable.
 *
 * @param sql the SQL text with bind markers
 * @param values the values in marker order
 * @since 0.1
 */
public record BoundSql(String sql, List<Object> values) {

	public BoundSql {
		Objects.requireNonNull(sql, "sql must not be null");
		Objects.requireNonNull(values, "values must not be null");
	}
}
