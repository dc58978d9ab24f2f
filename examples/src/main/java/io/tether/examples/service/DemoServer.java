package io.tether.examples.service;

import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tether.context.TransactionOptions;
import io.tether.core.Database;
import io.tether.pool.PoolListener;
import io.tether.pool.PoolStats;
import io.tether.pool.TetherPool;
import io.tether.webflux.TetherWebFilter;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.reactivestreams.Publisher;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.function.server.HandlerStrategies;
import org.springframework.web.reactive.function.server.RouterFunctions;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The demo service: the FastAPI users/items application on Tether, Spring WebFlux functional routes and
 * Reactor Netty, without Spring Boot. Every request gets one lazily acquired connection
 * ({@link TetherWebFilter}); the two {@code POST}s run in a transaction each. {@code main} serves until
 * Ctrl-C, then lets requests in flight finish (up to {@link DemoConfig#shutdownGrace()}) and closes the pool.
 *
 * <pre>
 * mvn -q -B -pl examples -am compile exec:java@serve                 # H2 file under ./data
 * mvn -q -B -pl examples -am compile exec:java@serve -Dexec.args=--in-memory
 * DATABASE_URL=r2dbc:postgresql://postgres@127.0.0.1:5432/test mvn -q -B -pl examples -am compile exec:java@serve
 * </pre>
 */
public final class DemoServer implements AutoCloseable {

	private final DemoConfig config;
	private final Database db;
	private final TetherPool pool;
	private final DisposableServer server;
	private final AtomicBoolean closed = new AtomicBoolean();
	private final AtomicInteger inUse = new AtomicInteger();
	private final AtomicInteger peakInUse = new AtomicInteger();
	private final AtomicInteger opened = new AtomicInteger();

	private DemoServer(DemoConfig config) {
		this.config = config;
		this.pool = TetherPool.create(config.databaseUrl());
		// Above the default 1 s: PBKDF2 and a busy laptop should not fill the console with slow-statement warnings.
		this.db = Database.builder(pool).name("demo").slowStatementThreshold(Duration.ofSeconds(5)).closeFactoryOnClose(true).build();
		pool.addListener(new PoolListener() {
			@Override
			public void acquired(Duration waited) {
				peakInUse.accumulateAndGet(inUse.incrementAndGet(), Math::max);
			}

			@Override
			public void released(Duration held) {
				inUse.decrementAndGet();
			}

			@Override
			public void created(Duration took) {
				opened.incrementAndGet();
			}
		});
		DisposableServer started = null;
		try {
			DemoRoutes routes = new DemoRoutes(db, pool.getMetadata().getName(), config, this::stats);
			routes.store().createSchema().block(Duration.ofSeconds(30));
			TetherWebFilter filter = TetherWebFilter.builder(db)
					.transactional(Set.of(HttpMethod.POST), TransactionOptions.defaults(), "/users", "/users/{id}/items")
					.build();
			HttpHandler handler = RouterFunctions.toHttpHandler(routes.routes(), HandlerStrategies.builder().webFilter(filter).build());
			started = HttpServer.create()
					.host(config.host())
					.port(config.port())
					// Connections tracked here are what a graceful dispose waits for.
					.channelGroup(new DefaultChannelGroup(GlobalEventExecutor.INSTANCE))
					.handle(rejectingMalformedUris(new ReactorHttpHandlerAdapter(handler)))
					.bindNow(Duration.ofSeconds(30));
		}
		catch (RuntimeException e) {
			db.close();
			throw e;
		}
		this.server = started;
	}

	/**
	 * Spring answers a request target that is no valid URI (a malformed %-escape) with an empty 400 before
	 * any route runs; this gives it the {@code detail} body every other mistake gets.
	 */
	private static BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> rejectingMalformedUris(ReactorHttpHandlerAdapter spring) {
		return (request, response) -> {
			try {
				new URI(request.uri());
			}
			catch (URISyntaxException e) {
				return response.status(HttpResponseStatus.BAD_REQUEST)
						.header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
						.sendString(Mono.just(DemoRoutes.detailJson("The request target is not a valid URI: " + e.getMessage())));
			}
			return spring.apply(request, response);
		};
	}

	/** Creates the schema if needed and starts serving; returns once the port is bound. */
	public static DemoServer start(DemoConfig config) {
		return new DemoServer(config);
	}

	public static void main(String[] args) throws Exception {
		DemoConfig config;
		try {
			config = DemoConfig.from(args, System.getenv());
		}
		catch (IllegalArgumentException e) {
			System.err.println(e.getMessage());
			System.exit(2);
			return;
		}
		DemoServer demo;
		try {
			demo = start(config);
		}
		catch (RuntimeException e) {
			System.err.println("The demo could not start on " + config.describeDatabase() + ": " + e.getMessage());
			System.exit(1);
			return;
		}
		System.out.printf("Tether demo serving on %s (database: %s)%n", demo.url(), config.describeDatabase());
		DemoRoutes.endpoints().forEach(e -> System.out.println("  " + e));
		System.out.println("Press Ctrl-C to stop.");
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			System.out.println("Shutting down: finishing requests in flight, then closing the pool...");
			demo.close();
			System.out.println("Stopped.");
		}, "tether-demo-shutdown"));
		demo.server.onDispose().block();
	}

	/** {@code http://host:port}. */
	public String url() {
		return "http://" + config.host() + ":" + server.port();
	}

	public int port() {
		return server.port();
	}

	/** What {@code GET /stats} answers: the pool's gauges and the peak of connections in use at once. */
	public Map<String, Object> stats() {
		PoolStats s = pool.stats();
		return Map.of("max_connections", s.maxSize(), "connections_in_use", s.acquired(), "peak_connections_in_use", peakInUse.get(),
				"connections_opened", opened.get(), "acquisitions", s.acquireCount());
	}

	/** The pool, for tests that check it is fully returned. */
	public TetherPool pool() {
		return pool;
	}

	/**
	 * Stops accepting connections, waits up to {@link DemoConfig#shutdownGrace()} for requests in flight,
	 * then closes the pool. Blocks; idempotent.
	 */
	@Override
	public void close() {
		if (!closed.compareAndSet(false, true)) {
			return;
		}
		try {
			server.disposeNow(config.shutdownGrace());
		}
		catch (IllegalStateException e) {
			System.err.println("Requests still running after " + config.shutdownGrace() + ": " + e.getMessage());
		}
		finally {
			pool.close(config.shutdownGrace()).block();
			db.close();
		}
	}
}
