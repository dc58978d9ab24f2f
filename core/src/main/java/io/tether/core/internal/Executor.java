package io.tether.core.internal;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.tether.context.ConnectionScope;
import io.tether.core.IncorrectResultSizeException;
import io.tether.core.MappingException;
import io.tether.core.ParameterException;
import io.tether.core.RowMapper;
import java.util.List;
import java.util.function.BooleanSupplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs {@link StatementSpec}s of one {@link io.tether.core.Database}: parses and binds the SQL at
 * subscription, finds the connection through the {@link ConnectionScope} (bound, or acquired for the
 * statement), streams the mapped rows, translates errors and logs.
 */
public final class Executor {

	private final ConnectionScope scope;
	private final BindMarkers markers;
	private final StatementLog log;
	private final BooleanSupplier closed;

	public Executor(ConnectionScope scope, BindMarkers markers, StatementLog log, BooleanSupplier closed) {
		this.scope = scope;
		this.markers = markers;
		this.log = log;
		this.closed = closed;
	}

	/** The mapped rows of {@code spec}, streamed with back-pressure. */
	public <T> Flux<T> query(StatementSpec spec, RowMapper<? extends T> mapper) {
		return Flux.defer(() -> {
			BoundSql bound = prepare(spec);
			return log.around(spec.sql(), bound, scope.<T>withConnectionMany(connection ->
					Flux.from(statement(connection, spec, bound).execute())
							.concatMap(result -> result.map((row, metadata) -> mapped(mapper, row, metadata, spec.sql())))))
					.onErrorMap(error -> log.translate(error, spec.sql(), bound));
		});
	}

	/** At most one mapped row of {@code spec}; a second row is an error. */
	public <T> Mono<T> one(StatementSpec spec, RowMapper<? extends T> mapper) {
		return query(spec, mapper).take(2).collectList().flatMap(rows -> switch (rows.size()) {
			case 0 -> Mono.empty();
			case 1 -> Mono.just(rows.get(0));
			default -> Mono.error(new IncorrectResultSizeException(
					"Expected at most one row but got more in SQL: " + spec.sql() + " (use first() or all() for several rows)",
					spec.sql()));
		});
	}

	/** The summed update counts of {@code spec}. */
	public Mono<Long> rowsUpdated(StatementSpec spec) {
		return Mono.defer(() -> {
			BoundSql bound = prepare(spec);
			return log.around(spec.sql(), bound, scope.withConnectionMany(connection ->
					Flux.from(statement(connection, spec, bound).execute()).concatMap(Result::getRowsUpdated)))
					.reduce(0L, Long::sum)
					.onErrorMap(error -> log.translate(error, spec.sql(), bound));
		});
	}

	/** The update count of each set of values of a batch, in order. */
	public Flux<Long> batch(String sql, List<List<Binding>> entries) {
		return Flux.defer(() -> {
			checkOpen();
			if (entries.isEmpty()) {
				throw new ParameterException("Batch has no sets of values; call add(...) at least once before rowsUpdated(), in SQL: " + sql);
			}
			ParsedSql parsed = ParsedSql.parse(sql);
			BoundSql[] bound = new BoundSql[entries.size()];
			for (int i = 0; i < bound.length; i++) {
				bound[i] = parsed.bind(entries.get(i), markers);
				if (i > 0 && !bound[i].sql().equals(bound[0].sql())) {
					throw new ParameterException("Set " + i + " of the batch expands to different SQL than set 0 (a collection"
							+ " parameter has another size); every set of a batch must expand alike, in SQL: " + sql);
				}
			}
			return log.around(sql, bound[0], scope.withConnectionMany(connection -> {
				Statement statement = connection.createStatement(bound[0].sql());
				for (int i = 0; i < bound.length; i++) {
					if (i > 0) {
						statement.add();
					}
					bindValues(statement, bound[i].values());
				}
				return Flux.from(statement.execute()).concatMap(Result::getRowsUpdated);
			})).onErrorMap(error -> log.translate(error, sql, bound[0]));
		});
	}

	private BoundSql prepare(StatementSpec spec) {
		checkOpen();
		return ParsedSql.parse(spec.sql()).bind(spec.bindings(), markers);
	}

	private void checkOpen() {
		if (closed.getAsBoolean()) {
			throw new IllegalStateException("Database '" + log.database() + "' is closed");
		}
	}

	private static Statement statement(Connection connection, StatementSpec spec, BoundSql bound) {
		Statement statement = connection.createStatement(bound.sql());
		bindValues(statement, bound.values());
		List<String> generated = spec.generatedColumns();
		if (!generated.isEmpty()) {
			statement.returnGeneratedValues(generated.size() == 1 && generated.get(0).isEmpty()
					? new String[0] : generated.toArray(String[]::new));
		}
		if (spec.fetchSize() > 0) {
			statement.fetchSize(spec.fetchSize());
		}
		return statement;
	}

	private static void bindValues(Statement statement, List<Object> values) {
		for (int i = 0, n = values.size(); i < n; i++) {
			Object value = values.get(i);
			if (value instanceof NullValue nullValue) {
				statement.bindNull(i, nullValue.type());
			}
			else {
				statement.bind(i, value);
			}
		}
	}

	private static <T> T mapped(RowMapper<? extends T> mapper, io.r2dbc.spi.Row row, io.r2dbc.spi.RowMetadata metadata, String sql) {
		T value = mapper.map(row, metadata);
		if (value == null) {
			throw new MappingException("The row mapper returned null (with mapTo(SimpleType): the column was SQL NULL), which a"
					+ " reactive stream cannot carry; use coalesce(...) in the SQL, or map(...) to an Optional or a placeholder,"
					+ " in SQL: " + sql);
		}
		return value;
	}
}
