package io.tether.core.internal;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.tether.context.ConnectionScope;
import io.tether.core.IncorrectResultSizeException;
import io.tether.core.MappingException;
import io.tether.core.NonTransientConnectionException;
import io.tether.core.ParameterException;
import io.tether.core.RowMapper;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * Runs {@link StatementSpec}s of one {@link io.tether.core.Database}: parses and binds the SQL at
 * subscription, finds the connection through the {@link ConnectionScope} (bound, or acquired for the
 * statement), streams the mapped rows, translates errors and logs.
 */
public final class Executor {

	private final ConnectionScope scope;
	private final BindMarkers markers;
	private final StatementLog log;
	private final BindLimit limit;
	private final BooleanSupplier closed;

	public Executor(ConnectionScope scope, BindMarkers markers, BindLimit limit, StatementLog log, BooleanSupplier closed) {
		this.scope = scope;
		this.markers = markers;
		this.limit = limit;
		this.log = log;
		this.closed = closed;
	}

	/** The mapped rows of {@code spec}, streamed with back-pressure. */
	public <T> Flux<T> query(StatementSpec spec, RowMapper<? extends T> mapper) {
		return Flux.defer(() -> {
			ParsedSql parsed = parse(spec.sql());
			BoundSql bound = parsed.bind(spec.bindings(), markers, limit);
			return log.around(spec.sql(), bound, scope.<T>withConnectionMany(connection ->
					Flux.from(statement(connection, spec, parsed, bound).execute())
							.concatMap(result -> result.map((row, metadata) -> mapped(mapper, row, metadata, spec.sql())))))
					.onErrorMap(error -> log.translate(error, spec.sql(), bound));
		});
	}

	/** At most one mapped row of {@code spec}; a second row is an error. */
	public <T> Mono<T> one(StatementSpec spec, RowMapper<? extends T> mapper) {
		return new AtMostOne<>(query(spec, mapper), spec.sql());
	}

	/**
	 * The only item of the source, or empty; a second item cancels the source and fails with
	 * {@link IncorrectResultSizeException}. One operator where {@code take(2).collectList().flatMap(...)} needs
	 * three and a list: this runs for every {@code one()}.
	 */
	private static final class AtMostOne<T> extends Mono<T> {

		private final Flux<T> source;
		private final String sql;

		AtMostOne(Flux<T> source, String sql) {
			this.source = source;
			this.sql = sql;
		}

		@Override
		public void subscribe(CoreSubscriber<? super T> actual) {
			source.subscribe(new AtMostOneSubscriber<>(actual, sql));
		}
	}

	private static final class AtMostOneSubscriber<T> extends Operators.MonoSubscriber<T, T> {

		private final String sql;
		private @Nullable Subscription upstream;
		private @Nullable T first;
		private boolean done;

		AtMostOneSubscriber(CoreSubscriber<? super T> actual, String sql) {
			super(actual);
			this.sql = sql;
		}

		@Override
		public void onSubscribe(Subscription s) {
			if (Operators.validate(upstream, s)) {
				upstream = s;
				actual.onSubscribe(this);
				s.request(Long.MAX_VALUE);
			}
		}

		@Override
		public void onNext(T t) {
			if (done) {
				Operators.onNextDropped(t, actual.currentContext());
				return;
			}
			if (first == null) {
				first = t;
				return;
			}
			done = true;
			upstream.cancel();
			Operators.onDiscard(t, actual.currentContext());
			Operators.onDiscard(first, actual.currentContext());
			first = null;
			actual.onError(new IncorrectResultSizeException(
					"Expected at most one row but got more in SQL: " + sql + " (use first() or all() for several rows)", sql));
		}

		@Override
		public void onError(Throwable t) {
			if (done) {
				Operators.onErrorDropped(t, actual.currentContext());
				return;
			}
			done = true;
			T f = first;
			first = null;
			if (f != null) {
				Operators.onDiscard(f, actual.currentContext());
			}
			actual.onError(t);
		}

		@Override
		public void onComplete() {
			if (done) {
				return;
			}
			done = true;
			T f = first;
			first = null;
			if (f == null) {
				actual.onComplete();
			}
			else {
				complete(f);
			}
		}

		@Override
		public void cancel() {
			super.cancel();
			Subscription s = upstream;
			if (s != null) {
				s.cancel();
			}
		}
	}

	/** The summed update counts of {@code spec}. */
	public Mono<Long> rowsUpdated(StatementSpec spec) {
		return Mono.defer(() -> {
			ParsedSql parsed = parse(spec.sql());
			BoundSql bound = parsed.bind(spec.bindings(), markers, limit);
			return log.around(spec.sql(), bound, scope.withConnectionMany(connection ->
					Flux.from(statement(connection, spec, parsed, bound).execute()).concatMap(Result::getRowsUpdated)))
					.reduce(0L, Long::sum)
					.onErrorMap(error -> log.translate(error, spec.sql(), bound));
		});
	}

	/** The update count of each set of values of a batch, in order. */
	public Flux<Long> batch(String sql, List<List<Binding>> entries) {
		return Flux.defer(() -> {
			if (entries.isEmpty()) {
				throw new ParameterException("Batch has no sets of values; call add(...) at least once before rowsUpdated(), in SQL: " + sql);
			}
			ParsedSql parsed = parse(sql);
			BoundSql[] bound = new BoundSql[entries.size()];
			for (int i = 0; i < bound.length; i++) {
				bound[i] = parsed.bind(entries.get(i), markers, limit);
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
					bindValues(statement, bound[i].values(), parsed, entries.get(i), i);
				}
				return Flux.from(statement.execute()).concatMap(Result::getRowsUpdated);
			})).onErrorMap(error -> log.translate(error, sql, bound[0]));
		});
	}

	private ParsedSql parse(String sql) {
		if (closed.getAsBoolean()) {
			throw new NonTransientConnectionException("Database '" + log.database() + "' is closed; no statement can run on it"
					+ " (a closed Database stays closed: create a new one)", null, null, 0, sql);
		}
		return ParsedSql.parse(sql);
	}

	private Statement statement(Connection connection, StatementSpec spec, ParsedSql parsed, BoundSql bound) {
		Statement statement = connection.createStatement(bound.sql());
		bindValues(statement, bound.values(), parsed, spec.bindings(), -1);
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

	private void bindValues(Statement statement, List<Object> values, ParsedSql parsed, List<Binding> bindings, int set) {
		for (int i = 0, n = values.size(); i < n; i++) {
			Object value = values.get(i);
			try {
				if (value instanceof NullValue nullValue) {
					statement.bindNull(i, nullValue.type());
				}
				else {
					statement.bind(i, value);
				}
			}
			catch (IllegalArgumentException | UnsupportedOperationException e) {
				// The driver's message may quote the value ("Cannot encode parameter of type X (value)"): neither it
				// nor the driver's exception goes into ours.
				throw unencodable(value, parsed, bindings, i, set);
			}
		}
	}

	private ParameterException unencodable(Object value, ParsedSql parsed, List<Binding> bindings, int marker, int set) {
		Class<?> type = value instanceof NullValue n ? n.type() : value.getClass();
		String hint;
		if (value instanceof java.util.Optional) {
			hint = "unwrap an Optional: bind its value, or bindNull(name, Type.class) when it is empty";
		}
		else if (type.isRecord()) {
			hint = "a record is not one SQL value: bind its components as separate parameters";
		}
		else {
			hint = "convert it to a type the driver supports (String, numbers, Boolean, java.time types, UUID,"
					+ " byte[] or ByteBuffer, arrays of these, or a driver type)";
		}
		return new ParameterException("Cannot bind parameter " + parsed.parameterAt(bindings, marker)
				+ (set >= 0 ? " of set " + set + " of the batch" : "") + ": the driver of database '" + log.database()
				+ "' cannot encode a value of type " + type.getName() + "; " + hint + ", in SQL: " + parsed.sql(),
				null, null, 0, parsed.sql());
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
