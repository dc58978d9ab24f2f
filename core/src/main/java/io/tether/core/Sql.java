package io.tether.core;

import io.r2dbc.spi.Row;
import io.tether.core.internal.Binding;
import io.tether.core.internal.Executor;
import io.tether.core.internal.RowMappers;
import io.tether.core.internal.StatementSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * One SQL statement with {@code :name} parameters, built by {@link Database#sql(String)}.
 *
 * <pre>{@code
 * db.sql("select id, email from users where active = :active and id in (:ids)")
 *   .bind("active", true)
 *   .bind("ids", List.of(1, 2, 3))        // expands to $2, $3, $4
 *   .mapTo(User.class)
 *   .all();
 * }</pre>
 *
 * <p>Instances are immutable: every {@code bind} returns a new {@code Sql}, so a partly bound statement can
 * be shared and reused. Nothing runs until a terminal publisher ({@link #rowsUpdated()}, {@link #then()}, or
 * one of {@link Query}'s) is subscribed; every subscription runs the statement again.
 *
 * <h2>Parameters</h2>
 * {@code :name} (letters, digits and {@code _}) is a parameter anywhere except inside quotes, dollar quotes
 * and comments; {@code ::type} casts and {@code \:} escapes are left alone. A name may occur several times.
 * A {@link java.util.Collection} value expands to one marker per element; an empty one is an error. Errors in
 * the parameters (unknown name, missing value, value bound twice, {@code null} without a type, empty
 * collection, more values than the database takes in one statement) are reported as
 * {@link ParameterException} when the statement is subscribed, naming the parameter and its position in the
 * SQL, and nothing is acquired; so is SQL that is empty or only comments ({@link InvalidSqlException}). A value
 * the driver cannot encode (a record, an {@code Optional}) is a {@link ParameterException} naming the
 * parameter and the value's Java type, raised when the statement is bound on its connection.
 *
 * @since 0.1
 */
public final class Sql {

	private final Executor executor;
	private final String sql;
	private final List<Binding> bindings;
	private final List<String> generatedColumns;
	private final int fetchSize;

	Sql(Executor executor, String sql) {
		this(executor, sql, List.of(), List.of(), 0);
	}

	private Sql(Executor executor, String sql, List<Binding> bindings, List<String> generatedColumns, int fetchSize) {
		this.executor = executor;
		this.sql = sql;
		this.bindings = bindings;
		this.generatedColumns = generatedColumns;
		this.fetchSize = fetchSize;
	}

	/** The SQL text as given. */
	public String sql() {
		return sql;
	}

	/**
	 * Binds {@code value} to every occurrence of {@code :name}. A {@code null} value is refused when the
	 * statement runs, because drivers need its type: use {@link #bindNull(String, Class)}.
	 */
	public Sql bind(String name, @Nullable Object value) {
		return with(new Binding(checkName(name), value, null));
	}

	/** Binds SQL {@code NULL} of Java type {@code type} (e.g. {@code String.class}) to {@code :name}. */
	public Sql bindNull(String name, Class<?> type) {
		return with(new Binding(checkName(name), null, Objects.requireNonNull(type, "type must not be null")));
	}

	/** Binds every entry of {@code values}, as {@link #bind(String, Object)} would one by one. */
	public Sql bindAll(Map<String, ?> values) {
		Objects.requireNonNull(values, "values must not be null");
		List<Binding> all = new ArrayList<>(bindings.size() + values.size());
		all.addAll(bindings);
		values.forEach((name, value) -> all.add(new Binding(checkName(name), value, null)));
		return new Sql(executor, sql, Collections.unmodifiableList(all), generatedColumns, fetchSize);
	}

	/**
	 * Asks the driver to return the values the database generated for {@code columns} (e.g. an identity key)
	 * as the statement's rows, to be mapped like a query's ({@code .mapTo(Long.class).one()}). With no
	 * columns the driver decides which (all columns on PostgreSQL).
	 */
	public Sql returnGeneratedValues(String... columns) {
		Objects.requireNonNull(columns, "columns must not be null");
		List<String> cols = List.of(columns);
		return new Sql(executor, sql, bindings, cols.isEmpty() ? List.of("") : cols, fetchSize);
	}

	/**
	 * A hint of how many rows the driver fetches per round trip (e.g. a PostgreSQL portal size); 0, the
	 * default, leaves it to the driver.
	 */
	public Sql fetchSize(int rows) {
		if (rows < 0) {
			throw new IllegalArgumentException("fetchSize must be >= 0, was " + rows);
		}
		return new Sql(executor, sql, bindings, generatedColumns, rows);
	}

	/** The rows of this statement, mapped by {@code mapper}. */
	public <T> Query<T> map(RowMapper<? extends T> mapper) {
		Objects.requireNonNull(mapper, "mapper must not be null");
		return new Query<>(executor, spec(), mapper);
	}

	/** The rows of this statement, mapped by {@code mapper} (for mappers that need no metadata). */
	public <T> Query<T> map(Function<? super Row, ? extends T> mapper) {
		Objects.requireNonNull(mapper, "mapper must not be null");
		return new Query<T>(executor, spec(), (row, metadata) -> mapper.apply(row));
	}

	/**
	 * The rows of this statement mapped to {@code type}: a record or JavaBean by column label
	 * ({@code snake_case} to {@code camelCase}, case-insensitive), or a simple type such as {@code Long} or
	 * {@code String} for one-column rows. Mapping problems are reported as {@link MappingException}, naming
	 * the column, the target type and the class.
	 */
	public <T> Query<T> mapTo(Class<T> type) {
		Objects.requireNonNull(type, "type must not be null");
		return new Query<>(executor, spec(), RowMappers.forClass(type));
	}

	/**
	 * The number of rows the statement inserted, updated or deleted (summed over its results).
	 * <ul>
	 *   <li><b>Which connection:</b> the one bound in the Context, else one acquired for this statement.</li>
	 *   <li><b>Complete:</b> the count, after a connection acquired for this statement was released.</li>
	 *   <li><b>Error:</b> a translated {@link DataAccessException} (or {@link ParameterException}); the
	 *       connection is released as on complete.</li>
	 *   <li><b>Cancel:</b> the statement is cancelled; a connection acquired for it is released.</li>
	 * </ul>
	 */
	public Mono<Long> rowsUpdated() {
		return executor.rowsUpdated(spec());
	}

	/** Runs the statement for its effect and completes empty, as {@link #rowsUpdated()} does otherwise. */
	public Mono<Void> then() {
		return rowsUpdated().then();
	}

	StatementSpec spec() {
		return new StatementSpec(sql, bindings, generatedColumns, fetchSize);
	}

	@Override
	public String toString() {
		return "Sql[" + sql + "]";
	}

	private Sql with(Binding binding) {
		List<Binding> all = new ArrayList<>(bindings.size() + 1);
		all.addAll(bindings);
		all.add(binding);
		return new Sql(executor, sql, Collections.unmodifiableList(all), generatedColumns, fetchSize);
	}

	private static String checkName(@Nullable String name) {
		Objects.requireNonNull(name, "parameter name must not be null");
		if (name.startsWith(":")) {
			throw new IllegalArgumentException("parameter name must be given without the colon: use \""
					+ name.substring(1) + "\", not \"" + name + "\"");
		}
		return name;
	}
}
