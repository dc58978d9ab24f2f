package io.tether.core.internal;

import java.util.List;

/**
 * What {@link io.tether.core.Sql} hands to the {@link Executor}: the SQL text as written, the bindings in
 * the order they were made, the generated-value columns asked for (empty for none, {@code [""]} for the
 * driver's choice) and the fetch-size hint (0 for the driver's default).
 */
public record StatementSpec(String sql, List<Binding> bindings, List<String> generatedColumns, int fetchSize) {
}
