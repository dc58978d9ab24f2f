package io.tether.webflux;

import io.tether.context.TransactionOptions;
import io.tether.core.Database;
import io.tether.webflux.internal.RequestTransaction;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.PathContainer;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import reactor.core.publisher.Mono;

/**
 * A {@link WebFilter} that gives every request one connection of a {@link Database}, acquired only when the
 * request runs its first statement, and optionally one transaction per request on chosen routes (the
 * {@code ATOMIC_REQUESTS} idea). It sits in front of whatever handles the request, so it serves annotated
 * controllers and functional routes alike, on any server Spring WebFlux runs on (no Spring Boot needed).
 *
 * <pre>{@code
 * TetherWebFilter filter = TetherWebFilter.builder(db)
 *     .exclude("/static/**")                       // these requests get no scope
 *     .transactional("/users/**")                  // every method on these paths runs in a transaction
 *     .transactional(Set.of(HttpMethod.POST), TransactionOptions.defaults(), "/orders/**")
 *     .build();
 * HttpHandler handler = WebHttpHandlerBuilder.webHandler(RouterFunctions.toWebHandler(routes)).filter(filter).build();
 * }</pre>
 *
 * <h2>Connection mode (every included request)</h2>
 * The rest of the chain runs inside {@link Database#inLazyConnection(Mono)}: the first statement of the
 * request acquires a connection, every later statement of the request, in the handler and while its
 * response body is written, runs on that one connection (one at a time), and it is released when the
 * response has been written, when handling fails, or when the client disconnects (the server cancels the
 * request). A request that never touches the database never acquires. Statements commit one by one
 * (auto-commit) unless the code opens a transaction.
 *
 * <h2>Transaction mode (the routes given to {@code transactional})</h2>
 * The rest of the chain runs inside {@link Database#inTransaction(TransactionOptions, Mono)} with the
 * route's options, and writes its response into a buffer:
 * <ul>
 *   <li><b>Handler completes</b> with a status below 500: {@code COMMIT}, then the buffered status, headers
 *       and body go to the client. The client never sees a response for work that did not commit, and a
 *       client that sends its next request on receipt sees the data committed.</li>
 *   <li><b>Handler fails</b>, or the commit fails: {@code ROLLBACK}; the error goes on to the server's
 *       exception handlers, which write the error response.</li>
 *   <li><b>Handler sets a 5xx status</b>: {@code ROLLBACK}, then that response is sent.</li>
 *   <li><b>Client disconnects</b> (cancel): {@code ROLLBACK} and release in the background.</li>
 * </ul>
 * The connection is acquired when the request starts (the {@code BEGIN} needs it). The response is held
 * in heap memory up to {@link Builder#maxBufferedBytes(int)} (1 MiB by default; more fails the request and
 * rolls back), so streaming responses do not belong on transactional routes.
 *
 * <p>The first matching rule wins: a request is in transaction mode when its path matches a
 * {@code transactional} pattern (and its method is one of the rule's), else in connection mode when it is
 * included and not excluded, else it passes through untouched. Path patterns are Spring's
 * {@link PathPattern}s, matched against the path within the application. Instances are immutable and
 * thread-safe.
 *
 * @since 0.1
 */
public final class TetherWebFilter implements WebFilter, Ordered {

	/** Default limit of a transactional request's buffered response: 1 MiB. */
	public static final int DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

	private final Database db;
	private final List<PathPattern> includes;
	private final List<PathPattern> excludes;
	private final List<TransactionRule> transactional;
	private final int maxBufferedBytes;
	private final int order;

	private TetherWebFilter(Builder b) {
		this.db = b.db;
		this.includes = b.includes.isEmpty() ? List.of(PathPatternParser.defaultInstance.parse("/**")) : List.copyOf(b.includes);
		this.excludes = List.copyOf(b.excludes);
		this.transactional = List.copyOf(b.transactional);
		this.maxBufferedBytes = b.maxBufferedBytes;
		this.order = b.order;
	}

	/** A filter that gives every request a lazy connection scope of {@code db}, and no transactions. */
	public static TetherWebFilter of(Database db) {
		return builder(db).build();
	}

	/** A builder of a filter over {@code db}. */
	public static Builder builder(Database db) {
		return new Builder(Objects.requireNonNull(db, "db must not be null"));
	}

	/** The database whose connections this filter binds. */
	public Database database() {
		return db;
	}

	@Override
	public int getOrder() {
		return order;
	}

	/**
	 * Runs the rest of {@code chain} in a lazy connection scope, in a transaction, or as is, as the class
	 * documentation describes. Cold.
	 */
	@Override
	public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
		PathContainer path = exchange.getRequest().getPath().pathWithinApplication();
		TransactionRule rule = transactionRule(exchange.getRequest().getMethod(), path);
		if (rule != null) {
			return RequestTransaction.run(db, rule.options(), maxBufferedBytes, exchange, chain::filter)
					.flatMap(buffered -> buffered.replayTo(exchange.getResponse()));
		}
		if (matchesAny(includes, path) && !matchesAny(excludes, path)) {
			return db.inLazyConnection(Mono.defer(() -> chain.filter(exchange)));
		}
		return chain.filter(exchange);
	}

	private @Nullable TransactionRule transactionRule(HttpMethod method, PathContainer path) {
		for (TransactionRule rule : transactional) {
			if ((rule.methods().isEmpty() || rule.methods().contains(method)) && matchesAny(rule.patterns(), path)) {
				return rule;
			}
		}
		return null;
	}

	private static boolean matchesAny(List<PathPattern> patterns, PathContainer path) {
		for (PathPattern pattern : patterns) {
			if (pattern.matches(path)) {
				return true;
			}
		}
		return false;
	}

	@Override
	public String toString() {
		return "TetherWebFilter[" + db.name() + ", includes=" + includes + ", excludes=" + excludes
				+ ", transactional=" + transactional + "]";
	}

	private record TransactionRule(Set<HttpMethod> methods, TransactionOptions options, List<PathPattern> patterns) {
	}

	/**
	 * Settings of a {@link TetherWebFilter}. Defaults: every path included, none excluded, no transactional
	 * routes, 1 MiB buffered per transactional response, order {@link Ordered#HIGHEST_PRECEDENCE} + 100
	 * (so that the filters after it, and the handler, run inside the scope).
	 *
	 * @since 0.1
	 */
	public static final class Builder {

		private final Database db;
		private final List<PathPattern> includes = new ArrayList<>();
		private final List<PathPattern> excludes = new ArrayList<>();
		private final List<TransactionRule> transactional = new ArrayList<>();
		private int maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES;
		private int order = Ordered.HIGHEST_PRECEDENCE + 100;

		private Builder(Database db) {
			this.db = db;
		}

		/**
		 * Restricts connection mode to requests whose path matches one of {@code patterns} (cumulative over
		 * calls); without any, every path is included.
		 *
		 * @throws org.springframework.web.util.pattern.PatternParseException for a malformed pattern
		 */
		public Builder include(String... patterns) {
			includes.addAll(parse(patterns));
			return this;
		}

		/** Requests whose path matches one of {@code patterns} get no scope (unless a transactional rule matches). */
		public Builder exclude(String... patterns) {
			excludes.addAll(parse(patterns));
			return this;
		}

		/** Requests of any method on these paths run in a transaction with default options. */
		public Builder transactional(String... patterns) {
			return transactional(Set.of(), TransactionOptions.defaults(), patterns);
		}

		/** Requests of any method on these paths run in a transaction with {@code options}. */
		public Builder transactional(TransactionOptions options, String... patterns) {
			return transactional(Set.of(), options, patterns);
		}

		/**
		 * Requests with one of {@code methods} (any method if empty) on these paths run in a transaction with
		 * {@code options}. Rules are tried in the order they were added.
		 */
		public Builder transactional(Set<HttpMethod> methods, TransactionOptions options, String... patterns) {
			Objects.requireNonNull(methods, "methods must not be null");
			Objects.requireNonNull(options, "options must not be null");
			List<PathPattern> parsed = parse(patterns);
			if (parsed.isEmpty()) {
				throw new IllegalArgumentException("transactional needs at least one path pattern, was none");
			}
			transactional.add(new TransactionRule(Set.copyOf(methods), options, parsed));
			return this;
		}

		/** The most bytes a transactional response may buffer until the commit; {@code >= 1}. */
		public Builder maxBufferedBytes(int maxBufferedBytes) {
			if (maxBufferedBytes < 1) {
				throw new IllegalArgumentException("maxBufferedBytes must be >= 1, was " + maxBufferedBytes);
			}
			this.maxBufferedBytes = maxBufferedBytes;
			return this;
		}

		/** The filter's {@link Ordered order} among the server's filters. */
		public Builder order(int order) {
			this.order = order;
			return this;
		}

		public TetherWebFilter build() {
			return new TetherWebFilter(this);
		}

		private static List<PathPattern> parse(String... patterns) {
			Objects.requireNonNull(patterns, "patterns must not be null");
			List<PathPattern> parsed = new ArrayList<>(patterns.length);
			for (String pattern : patterns) {
				parsed.add(PathPatternParser.defaultInstance.parse(Objects.requireNonNull(pattern, "pattern must not be null")));
			}
			return parsed;
		}
	}
}
