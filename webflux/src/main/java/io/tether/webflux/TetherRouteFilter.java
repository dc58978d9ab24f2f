package io.tether.webflux;

import io.tether.context.TransactionOptions;
import io.tether.core.Database;
import io.tether.webflux.internal.BufferedResponse;
import io.tether.webflux.internal.RequestTransaction;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.codec.HttpMessageWriter;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.HandlerFilterFunction;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.HandlerStrategies;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.reactive.result.view.ViewResolver;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@link HandlerFilterFunction} that runs one functional route in a transaction per request, for
 * applications that choose transactional routes where they declare them rather than by path in the
 * {@link TetherWebFilter}:
 *
 * <pre>{@code
 * RouterFunction<ServerResponse> routes = route()
 *     .POST("/users", users::create)
 *     .filter(TetherRouteFilter.transaction(db))
 *     .build();
 * }</pre>
 *
 * A functional handler returns a {@link ServerResponse} whose body is rendered later, when the server
 * writes it; so that the rendering (which may run queries) is part of the transaction and the commit
 * precedes the response, this filter renders the response itself, into a buffer, with the message writers
 * of the {@link HandlerStrategies} it was given (the defaults unless {@link #transaction(Database,
 * TransactionOptions, HandlerStrategies, int)} names others), inside
 * {@link Database#inTransaction(TransactionOptions, Mono)}:
 * <ul>
 *   <li><b>Handler completes</b> with a status below 500: {@code COMMIT}, then it emits a response that
 *       replays the buffered status, headers, cookies and body.</li>
 *   <li><b>Handler fails</b>, or the commit fails: {@code ROLLBACK}, then the error (for the route's error
 *       filters and the server's exception handlers).</li>
 *   <li><b>5xx status</b>: {@code ROLLBACK}, then that response is emitted.</li>
 *   <li><b>Cancel</b> (the client disconnected): {@code ROLLBACK} and release in the background.</li>
 * </ul>
 * Inside a {@link TetherWebFilter}'s connection scope the transaction runs on the request's connection;
 * without one it acquires its own when the request reaches the route. The buffer is limited like the
 * web filter's ({@link TetherWebFilter#DEFAULT_MAX_BUFFERED_BYTES} by default).
 *
 * @since 0.1
 */
public final class TetherRouteFilter implements HandlerFilterFunction<ServerResponse, ServerResponse> {

	private final Database db;
	private final TransactionOptions options;
	private final ServerResponse.Context context;
	private final int maxBufferedBytes;

	private TetherRouteFilter(Database db, TransactionOptions options, HandlerStrategies strategies, int maxBufferedBytes) {
		this.db = db;
		this.options = options;
		this.maxBufferedBytes = maxBufferedBytes;
		this.context = new ServerResponse.Context() {
			@Override
			public List<HttpMessageWriter<?>> messageWriters() {
				return strategies.messageWriters();
			}

			@Override
			public List<ViewResolver> viewResolvers() {
				return strategies.viewResolvers();
			}
		};
	}

	/** A transaction per request with default options and the default {@link HandlerStrategies}. */
	public static TetherRouteFilter transaction(Database db) {
		return transaction(db, TransactionOptions.defaults());
	}

	/** A transaction per request with {@code options} and the default {@link HandlerStrategies}. */
	public static TetherRouteFilter transaction(Database db, TransactionOptions options) {
		return transaction(db, options, HandlerStrategies.withDefaults(), TetherWebFilter.DEFAULT_MAX_BUFFERED_BYTES);
	}

	/**
	 * A transaction per request with {@code options}, rendering responses with the writers of
	 * {@code strategies} (use the ones the router is served with, e.g. with custom JSON settings), buffering
	 * at most {@code maxBufferedBytes} per response.
	 */
	public static TetherRouteFilter transaction(Database db, TransactionOptions options, HandlerStrategies strategies,
			int maxBufferedBytes) {
		Objects.requireNonNull(db, "db must not be null");
		Objects.requireNonNull(options, "options must not be null");
		Objects.requireNonNull(strategies, "strategies must not be null");
		if (maxBufferedBytes < 1) {
			throw new IllegalArgumentException("maxBufferedBytes must be >= 1, was " + maxBufferedBytes);
		}
		return new TetherRouteFilter(db, options, strategies, maxBufferedBytes);
	}

	/** Runs {@code next} and renders its response in a transaction, as the class documentation describes. Cold. */
	@Override
	public Mono<ServerResponse> filter(ServerRequest request, HandlerFunction<ServerResponse> next) {
		return RequestTransaction.run(db, options, maxBufferedBytes, request.exchange(),
						exchange -> next.handle(request).flatMap(response -> response.writeTo(exchange, context)))
				.flatMap(TetherRouteFilter::replay);
	}

	private static Mono<ServerResponse> replay(BufferedResponse buffered) {
		@Nullable HttpStatusCode status = buffered.getStatusCode();
		return ServerResponse.status(status != null ? status : HttpStatus.OK)
				.headers(headers -> buffered.getHeaders().forEach(headers::put))
				.cookies(cookies -> buffered.getCookies().forEach(cookies::addAll))
				.body(BodyInserters.fromDataBuffers(Flux.fromIterable(buffered.body())));
	}

	@Override
	public String toString() {
		return "TetherRouteFilter[" + db.name() + ", " + options + "]";
	}
}
