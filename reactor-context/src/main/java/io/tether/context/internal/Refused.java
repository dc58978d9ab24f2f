package io.tether.context.internal;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

/**
 * What a scope's connection hands out for a statement or batch created after the scope started releasing
 * it: it takes binds and SQL like the real thing, and its execution is refused by the gate, which is
 * closed, before this publisher is ever subscribed.
 */
final class Refused implements Statement, Batch {

	static final Refused STATEMENT = new Refused();
	static final Batch BATCH = STATEMENT;

	private Refused() {
	}

	@Override
	public Refused add() {
		return this;
	}

	@Override
	public Refused add(String sql) {
		return this;
	}

	@Override
	public Refused bind(int index, Object value) {
		return this;
	}

	@Override
	public Refused bind(String name, Object value) {
		return this;
	}

	@Override
	public Refused bindNull(int index, Class<?> type) {
		return this;
	}

	@Override
	public Refused bindNull(String name, Class<?> type) {
		return this;
	}

	@Override
	public Refused returnGeneratedValues(String... columns) {
		return this;
	}

	@Override
	public Refused fetchSize(int rows) {
		return this;
	}

	@Override
	public Publisher<? extends Result> execute() {
		return Flux.error(new IllegalStateException("The connection of this scope has already been released"));
	}
}
