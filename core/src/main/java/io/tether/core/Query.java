package io.tether.core;

import io.tether.core.internal.Executor;
import io.tether.core.internal.StatementSpec;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The mapped rows of a statement ({@link Sql#map}, {@link Sql#mapTo}): choose how many you expect.
 *
 * <p>Common to every method: the publisher is cold and runs the statement once per subscription.
 * <ul>
 *   <li><b>Which connection:</b> the one bound in the Context (so inside a transaction, the transaction's),
 *       else one acquired for this statement alone.</li>
 *   <li><b>Complete:</b> after the last row; a connection acquired for the statement has been released.</li>
 *   <li><b>Error:</b> driver errors arrive as {@link DataAccessException}s naming the SQL, mapping errors as
 *       {@link MappingException}s; a connection acquired for the statement is released first.</li>
 *   <li><b>Cancel:</b> the rest of the result is discarded and a connection acquired for the statement
 *       released (a pooled connection that was still streaming is not handed to the next borrower in that
 *       state). On a bound connection the next statement runs normally.</li>
 * </ul>
 *
 * @param <T> the mapped type
 * @since 0.1
 */
public final class Query<T> {

	private final Executor executor;
	private final StatementSpec spec;
	private final RowMapper<? extends T> mapper;

	Query(Executor executor, StatementSpec spec, RowMapper<? extends T> mapper) {
		this.executor = executor;
		this.spec = spec;
		this.mapper = mapper;
	}

	/**
	 * Every row, streamed with back-pressure: rows are read from the driver as the subscriber requests them,
	 * never collected first.
	 */
	public Flux<T> all() {
		return executor.query(spec, mapper);
	}

	/**
	 * The only row, or empty when there is none. More than one row fails with
	 * {@link IncorrectResultSizeException} (the statement is cancelled after the second row).
	 */
	public Mono<T> one() {
		return executor.one(spec, mapper);
	}

	/** The first row, or empty when there is none; the rest of the result is cancelled. */
	public Mono<T> first() {
		return all().next();
	}

	@Override
	public String toString() {
		return "Query[" + spec.sql() + "]";
	}
}
