package io.tether.core.internal;

import java.util.Objects;

/**
 * A typed SQL {@code NULL} among {@link BoundSql#values()}: the statement must call
 * {@code bindNull(index, type())} for it instead of {@code bind}.
 *
 * @param type the Java type whose SQL counterpart the {@code NULL} has
 * @since 0.1
 */
public record NullValue(Class<?> type) {

	public NullValue {
		Objects.requireNonNull(type, "type must not be null");
	}
}
