package io.tether.webflux.internal;

import io.tether.context.TransactionOptions;
import io.tether.core.Database;
import io.tether.core.RetryPolicy;
import java.util.function.Function;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Runs the handling of one request in a transaction whose outcome is known before the client sees
 * anything: the handler writes into a {@link BufferedResponse}; the transaction commits when that
 * completes normally with a status below 500, and rolls back on an error, a 5xx status, or a cancel
 * (the client went away). Only after a successful commit is the buffered response handed on.
 */
public final class RequestTransaction {

	private RequestTransaction() {
	}

	/**
	 * Cold: subscribes {@code work} with an exchange whose response is buffered, inside
	 * {@code db.inTransaction(options, ...)}, and emits the buffered response after the commit.
	 * Errors of {@code work} or of the commit are signalled after the rollback; nothing is written.
	 * No retry: a request body can be read only once.
	 */
	public static Mono<BufferedResponse> run(Database db, TransactionOptions options, int maxBufferedBytes,
			ServerWebExchange exchange, Function<ServerWebExchange, Mono<Void>> work) {
		Mono<BufferedResponse> body = Mono.defer(() -> {
			BufferedResponse buffered = new BufferedResponse(maxBufferedBytes);
			ServerWebExchange inner = exchange.mutate().response(buffered).build();
			return work.apply(inner)
					.then(Mono.defer(buffered::setComplete))
					.then(Mono.defer(() -> buffered.isServerError() ? db.setRollbackOnly() : Mono.<Void>empty()))
					.thenReturn(buffered);
		});
		return db.inTransaction(options, RetryPolicy.none(), body);
	}
}
