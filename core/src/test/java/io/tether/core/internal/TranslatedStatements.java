package io.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Raw-driver statements whose errors go through {@link ErrorTranslator}, for the translation suites. */
final class TranslatedStatements {

	static final Duration TIMEOUT = Duration.ofSeconds(30);

	private TranslatedStatements() {
	}

	/** The statement's update count, or its translated error. */
	static Mono<Long> update(Connection c, String sql, Object... binds) {
		return Mono.defer(() -> {
					Statement s = c.createStatement(sql);
					for (int i = 0; i < binds.length; i++) {
						s.bind(i, binds[i]);
					}
					return Flux.from(s.execute()).flatMap(Result::getRowsUpdated).reduce(0L, Long::sum);
				})
				.onErrorMap(e -> ErrorTranslator.translate(e, sql));
	}

	/** Empty if {@code update} succeeds, else its error as a value. */
	static Mono<Throwable> outcome(Mono<Long> update) {
		return update.then(Mono.<Throwable>empty()).onErrorResume(Mono::just);
	}

	static void run(Connection c, String sql, Object... binds) {
		update(c, sql, binds).block(TIMEOUT);
	}

	/** The translated error of a statement that must fail. */
	static Throwable failure(Connection c, String sql, Object... binds) {
		Throwable e = catchThrowable(() -> update(c, sql, binds).block(TIMEOUT));
		assertThat(e).as("statement should have failed: %s", sql).isNotNull();
		return e;
	}
}
