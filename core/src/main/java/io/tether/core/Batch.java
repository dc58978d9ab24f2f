package io.tether.core;

import io.tether.core.internal.Binding;
import io.tether.core.internal.Executor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import reactor.core.publisher.Flux;

/**
 * One parameterized statement run with several sets of values, built by {@link Database#batch(String)}:
 *
 * <pre>{@code
 * db.batch("insert into items(title, owner_id) values (:title, :owner)")
 *   .add(Map.of("title", "pen", "owner", 1))
 *   .add(Map.of("title", "ink", "owner", 1))
 *   .rowsUpdated();                        // Flux<Long>: one count per set, in order
 * }</pre>
 *
 * <p>Instances are immutable: {@link #add} returns a new {@code Batch}. Every set must bind every parameter
 * of the SQL and nothing else, and a collection parameter must have the same size in every set (the
 * statement text is shared). For a typed {@code null} in a set, use {@code io.r2dbc.spi.Parameters.in(Type.class)}
 * as the value.
 *
 * @since 0.1
 */
public final class Batch {

	private final Executor executor;
	private final String sql;
	private final List<List<Binding>> entries;

	Batch(Executor executor, String sql) {
		this(executor, sql, List.of());
	}

	private Batch(Executor executor, String sql, List<List<Binding>> entries) {
		this.executor = executor;
		this.sql = sql;
		this.entries = entries;
	}

	/** A batch with one more set of values, by parameter name. */
	public Batch add(Map<String, ?> values) {
		Objects.requireNonNull(values, "values must not be null");
		List<Binding> entry = new ArrayList<>(values.size());
		values.forEach((name, value) -> entry.add(new Binding(Objects.requireNonNull(name, "parameter name must not be null"), value, null)));
		List<List<Binding>> all = new ArrayList<>(entries.size() + 1);
		all.addAll(entries);
		all.add(Collections.unmodifiableList(entry));
		return new Batch(executor, sql, Collections.unmodifiableList(all));
	}

	/** How many sets of values were added. */
	public int size() {
		return entries.size();
	}

	/**
	 * Runs the statement once per set of values, in one R2DBC statement with one binding per set, and emits
	 * the row count of each, in order.
	 * <ul>
	 *   <li><b>Which connection:</b> the one bound in the Context, else one acquired for this batch.</li>
	 *   <li><b>Complete / error:</b> as {@link Sql#rowsUpdated()}; outside a transaction a failing set does
	 *       not undo the sets before it (run the batch in {@link Database#inTransaction} for all or nothing).</li>
	 *   <li><b>Cancel:</b> the batch is cancelled; a connection acquired for it is released.</li>
	 * </ul>
	 * A batch without any set fails with {@link ParameterException}.
	 */
	public Flux<Long> rowsUpdated() {
		return executor.batch(sql, entries);
	}

	@Override
	public String toString() {
		return "Batch[" + entries.size() + " x " + sql + "]";
	}
}
