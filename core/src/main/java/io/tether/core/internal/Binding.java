package io.tether.core.internal;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One value for a named parameter, as handed to {@link ParsedSql#bind}. A {@code null} value needs a
 * {@code nullType} so the driver knows which SQL type the {@code NULL} has; a non-null value ignores it.
 * A {@link java.util.Collection} value expands to one marker per element; arrays are single values.
 *
 * @param name the parameter name as written after the colon, case-sensitive
 * @param value the value, or {@code null} for SQL {@code NULL}
 * @param nullType the Java type of a {@code null} value, as for {@code Statement.bindNull}
 * @since 0.1
 */
public record Binding(String name, @Nullable Object value, @Nullable Class<?> nullType) {

	public Binding {
		Objects.requireNonNull(name, "name must not be null");
	}

	/** A value for {@code name}; {@code null} is refused later by {@code bind}, use {@link #ofNull}. */
	public static Binding of(String name, @Nullable Object value) {
		return new Binding(name, value, null);
	}

	/** SQL {@code NULL} of the given Java type for {@code name}. */
	public static Binding ofNull(String name, Class<?> type) {
		return new Binding(name, null, Objects.requireNonNull(type, "type must not be null"));
	}
}
