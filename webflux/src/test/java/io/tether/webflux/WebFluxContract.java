package io.tether.webflux;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.core.Database;
import io.tether.pool.PoolSettings;
import io.tether.pool.TetherPool;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.config.EnableWebFlux;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.server.HandlerStrategies;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The web integration on one database: a {@link TetherPool} behind a {@link CountingConnectionFactory}, the
 * {@link TetherWebFilter} (connection mode everywhere, transaction mode on {@code /tx/**} and
 * {@code /ctl/tx/**}) and {@link TetherRouteFilter} on {@code /route/**}, driven through
 * {@link WebTestClient} and over a real Reactor Netty port. After every test: every connection acquired
 * was released exactly once and the pool has nothing checked out.
 *
 * <p>Every exchange over the real port ends with an {@code expectBody}: {@code WebTestClient} leaves a body
 * nobody asked for in Reactor Netty's inbound queue, unreleased (a Netty {@code LEAK} report once it is
 * garbage-collected); {@code expectBody(Void.class)} reads and releases one the test has no use for.
 */
abstract class WebFluxContract {

	private static final ParameterizedTypeReference<List<Integer>> INTEGER_LIST = new ParameterizedTypeReference<>() {
	};

	/** An unpooled factory of the database under test; the same database on every call within a test. */
	abstract ConnectionFactory target();

	/** SQL returning the server session id of the connection, as an integer. */
	abstract String sessionSql();

	/** SQL counting the sessions of this test's pool that sit in an open transaction. */
	abstract String sessionsInTransactionSql();

	TetherPool pool;
	CountingConnectionFactory counting;
	Database db;
	TestApp app;
	String table;
	DisposableServer server;
	WebTestClient client;
	WebTestClient http;

	@BeforeEach
	void start() {
		pool = TetherPool.create(target(), PoolSettings.builder().name("webflux-test").maxSize(12).build());
		table = "wf_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
		new TestApp(Database.of(pool), table, sessionSql()).createTable().block();   // not counted: not a request
		counting = new CountingConnectionFactory(pool);
		db = Database.of(counting);
		app = new TestApp(db, table, sessionSql());

		TetherWebFilter filter = TetherWebFilter.builder(db)
				.transactional("/tx/**", "/ctl/tx/**")
				.build();
		client = WebTestClient.bindToRouterFunction(app.routes()).webFilter(filter).build();
		HttpHandler handler = RouterFunctions.toHttpHandler(app.routes(), HandlerStrategies.builder().webFilter(filter).build());
		server = HttpServer.create().host("127.0.0.1").port(0).handle(new ReactorHttpHandlerAdapter(handler)).bindNow();
		http = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + server.port())
				.responseTimeout(Duration.ofSeconds(30)).build();
	}

	@AfterEach
	void stop() {
		try {
			await("every connection released and the pool idle", () -> counting.open() == 0 && pool.stats().acquired() == 0);
			assertThat(counting.doubleReleases()).as("connections released twice").isZero();
			assertThat(pool.stats().acquired()).as("pool connections still acquired").isZero();
		}
		finally {
			if (server != null) {
				server.disposeNow();
			}
			try {
				Database.of(pool).sql("drop table if exists " + table).then().block(Duration.ofSeconds(30));
			}
			finally {
				pool.close();
			}
		}
	}

	// ---------------------------------------------------------------- connection mode

	@Test
	void aRequestThatNeverTouchesTheDatabaseAcquiresNothing() {
		client.get().uri("/none").exchange().expectStatus().isOk().expectBody(String.class).isEqualTo("no database");
		http.get().uri("/none").exchange().expectStatus().isOk().expectBody(String.class).isEqualTo("no database");

		assertThat(counting.createSubscriptions()).isZero();
	}

	@Test
	void everyStatementOfARequestRunsOnItsOneConnection() {
		List<Integer> sessions = client.get().uri("/session-handler").exchange().expectStatus().isOk()
				.expectBody(INTEGER_LIST).returnResult().getResponseBody();

		assertThat(sessions).hasSize(4);
		assertThat(new HashSet<>(sessions)).as("sessions seen by one request").hasSize(1);
		assertThat(counting.acquired()).isEqualTo(1);
		assertThat(counting.statements()).hasSize(4).allSatisfy(s -> assertThat(s.connectionId()).isEqualTo(1));
	}

	@Test
	void everyStatementOfARequestRunsOnItsOneConnectionOverHttp() {
		List<Integer> first = http.get().uri("/session").exchange().expectStatus().isOk()
				.expectBody(INTEGER_LIST).returnResult().getResponseBody();
		List<Integer> second = http.get().uri("/session").exchange().expectStatus().isOk()
				.expectBody(INTEGER_LIST).returnResult().getResponseBody();

		assertThat(new HashSet<>(first)).hasSize(1);
		assertThat(new HashSet<>(second)).hasSize(1);
		assertThat(counting.acquired()).as("one acquisition per request").isEqualTo(2);
		assertThat(counting.statements()).hasSize(8);
		assertThat(counting.connectionsRunning("")).containsExactlyInAnyOrder(1, 2);
	}

	@Test
	void concurrentRequestsEachKeepTheirOwnConnection() {
		int n = 8;
		WebClient webClient = WebClient.create("http://127.0.0.1:" + server.port());
		List<List<Integer>> results = Flux.range(0, n)
				.flatMap(i -> webClient.get().uri("/slow?ms=300").retrieve().bodyToMono(INTEGER_LIST), n)
				.collectList().block(Duration.ofSeconds(60));

		assertThat(results).hasSize(n).allSatisfy(r -> assertThat(r.get(0)).as("session before and after the wait").isEqualTo(r.get(1)));
		Set<Integer> distinct = new HashSet<>();
		results.forEach(r -> distinct.add(r.get(0)));
		assertThat(distinct).as("sessions of overlapping requests").hasSize(n);
		assertThat(counting.acquired()).isEqualTo(n);
	}

	@Test
	void aClientThatDisconnectsMidResponseReleasesTheConnection() throws Exception {
		try (Socket socket = new Socket("127.0.0.1", server.port())) {
			send(socket, "GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n");
			readLines(socket.getInputStream(), 3);      // the response is streaming, row by row
			assertThat(counting.open()).as("connection held while the response streams").isEqualTo(1);
			socket.setSoLinger(true, 0);                // close with a reset: an aborted connection
		}

		await("the aborted request's connection released",
				() -> counting.open() == 0 && pool.stats().acquired() == 0 && sessionsInTransaction() == 0);
		assertThat(counting.acquired()).isEqualTo(1);
	}

	@Test
	void excludedPathsGetNoScope() {
		WebTestClient excluding = WebTestClient.bindToRouterFunction(app.routes())
				.webFilter(TetherWebFilter.builder(db).exclude("/session-handler").build()).build();

		excluding.get().uri("/session-handler").exchange().expectStatus().isOk();

		assertThat(counting.acquired()).as("a connection per statement, as outside any scope").isEqualTo(4);
	}

	// ---------------------------------------------------------------- transaction mode (web filter)

	@Test
	void aTransactionalResponseOverItsBufferLimitRollsBack() {
		WebTestClient limited = WebTestClient.bindToRouterFunction(app.routes())
				.webFilter(TetherWebFilter.builder(db).transactional("/tx/**").maxBufferedBytes(5).build()).build();

		limited.post().uri("/tx/items?title=p").exchange().expectStatus().isCreated().expectBody(Long.class).isEqualTo(1L);
		limited.post().uri("/tx/items?title=q&outcome=409").exchange().expectStatus().isEqualTo(500);   // "conflict": 8 bytes

		assertThat(count("p")).as("a 1-byte body fits").isEqualTo(1);
		assertThat(count("q")).as("an 8-byte body does not: rolled back").isZero();
	}

	@Test
	void aTransactionalRequestCommitsBeforeItsResponseIsSent() {
		client.post().uri("/tx/items?title=a").exchange().expectStatus().isCreated().expectBody(Long.class).isEqualTo(1L);

		assertThat(counting.commands()).as("committed by the time the client has the response").anyMatch(c -> c.endsWith("COMMIT"));
		assertThat(count("a")).isEqualTo(1);
	}

	@Test
	void aTransactionalRequestRollsBackOnError() {
		client.post().uri("/tx/items?title=b&outcome=error").exchange().expectStatus().is5xxServerError();

		assertThat(counting.commands()).anyMatch(c -> c.endsWith("ROLLBACK")).noneMatch(c -> c.endsWith("COMMIT"));
		assertThat(count("b")).isZero();
	}

	@Test
	void aTransactionalRequestRollsBackOnA5xxStatus() {
		client.post().uri("/tx/items?title=c&outcome=503").exchange()
				.expectStatus().isEqualTo(503).expectBody(String.class).isEqualTo("unavailable");

		assertThat(counting.commands()).anyMatch(c -> c.endsWith("ROLLBACK")).noneMatch(c -> c.endsWith("COMMIT"));
		assertThat(count("c")).isZero();
	}

	@Test
	void aTransactionalRequestCommitsOnA4xxStatus() {
		client.post().uri("/tx/items?title=d&outcome=409").exchange().expectStatus().isEqualTo(409);

		assertThat(count("d")).as("a client error is a normal completion").isEqualTo(1);
	}

	@Test
	void rollbackOn5xxAndCommitOverHttp() {
		http.post().uri("/tx/items?title=e&outcome=503").exchange().expectStatus().isEqualTo(503)
				.expectBody(String.class).isEqualTo("unavailable");
		http.post().uri("/tx/items?title=e&outcome=error").exchange().expectStatus().isEqualTo(500).expectBody(Void.class);
		http.post().uri("/tx/items?title=f").exchange().expectStatus().isCreated().expectBody(Long.class).isEqualTo(1L);

		assertThat(count("e")).isZero();
		assertThat(count("f")).isEqualTo(1);
	}

	@Test
	void aClientThatDisconnectsDuringATransactionRollsItBack() throws Exception {
		try (Socket socket = new Socket("127.0.0.1", server.port())) {
			send(socket, "POST /tx/slow?title=g HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
			await("the request's transaction open on the server", () -> sessionsInTransaction() == 1);
			assertThat(counting.open()).isEqualTo(1);
			socket.setSoLinger(true, 0);
		}

		await("the transaction rolled back and its connection released",
				() -> counting.open() == 0 && pool.stats().acquired() == 0 && sessionsInTransaction() == 0);
		assertThat(counting.commands()).anyMatch(c -> c.endsWith("ROLLBACK")).noneMatch(c -> c.endsWith("COMMIT"));
		assertThat(count("g")).isZero();
	}

	// ---------------------------------------------------------------- functional route filter

	@Test
	void theRouteFilterCommitsOrRollsBackEachRequest() {
		client.post().uri("/route/items?title=h").exchange().expectStatus().isCreated().expectBody(Long.class).isEqualTo(1L);
		client.post().uri("/route/items?title=i&outcome=503").exchange().expectStatus().isEqualTo(503)
				.expectBody(String.class).isEqualTo("unavailable");
		http.post().uri("/route/items?title=j&outcome=error").exchange().expectStatus().isEqualTo(500).expectBody(Void.class);
		assertThat(counting.acquired()).as("each request on its own connection, from the web filter's scope").isEqualTo(3);

		assertThat(count("h")).isEqualTo(1);
		assertThat(count("i")).isZero();
		assertThat(count("j")).isZero();
	}

	// ---------------------------------------------------------------- annotated controllers

	@Test
	void annotatedControllersGetTheSameScopes() {
		WebTestClient controllers = WebTestClient.bindToController(new TestApp.ItemsController(app))
				.webFilter(TetherWebFilter.builder(db).transactional("/ctl/tx/**").build()).build();

		List<Integer> sessions = controllers.get().uri("/ctl/session").exchange().expectStatus().isOk()
				.expectBody(INTEGER_LIST).returnResult().getResponseBody();
		assertThat(sessions).hasSize(3);
		assertThat(new HashSet<>(sessions)).hasSize(1);
		assertThat(counting.acquired()).isEqualTo(1);

		controllers.post().uri("/ctl/tx/items?title=k").exchange().expectStatus().isOk().expectBody(Long.class).isEqualTo(1L);
		controllers.post().uri("/ctl/tx/items?title=l&outcome=503").exchange().expectStatus().isEqualTo(503);
		controllers.post().uri("/ctl/tx/items?title=m&outcome=error").exchange().expectStatus().is5xxServerError();
		assertThat(count("k")).isEqualTo(1);
		assertThat(count("l")).isZero();
		assertThat(count("m")).isZero();
	}

	@Test
	void annotatedControllersOverHttp() {
		try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext()) {
			context.register(WebConfig.class);
			context.registerBean(TestApp.ItemsController.class, () -> new TestApp.ItemsController(app));
			context.registerBean(TetherWebFilter.class, () -> TetherWebFilter.builder(db).transactional("/ctl/tx/**").build());
			context.refresh();
			DisposableServer controllers = HttpServer.create().host("127.0.0.1").port(0)
					.handle(new ReactorHttpHandlerAdapter(WebHttpHandlerBuilder.applicationContext(context).build())).bindNow();
			try {
				WebTestClient c = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + controllers.port()).build();
				List<Integer> streamed = c.get().uri("/ctl/stream").exchange().expectStatus().isOk()
						.expectBody(INTEGER_LIST).returnResult().getResponseBody();
				assertThat(streamed).hasSize(3);
				assertThat(new HashSet<>(streamed)).as("a streamed body on the request's connection").hasSize(1);
				assertThat(counting.acquired()).isEqualTo(1);

				c.post().uri("/ctl/tx/items?title=n").exchange().expectStatus().isOk().expectBody(Long.class).isEqualTo(1L);
				c.post().uri("/ctl/tx/items?title=o&outcome=503").exchange().expectStatus().isEqualTo(503).expectBody(Void.class);
				assertThat(count("n")).isEqualTo(1);
				assertThat(count("o")).isZero();
			}
			finally {
				controllers.disposeNow();
			}
		}
	}

	@Configuration(proxyBeanMethods = false)
	@EnableWebFlux
	static class WebConfig {
	}

	// ---------------------------------------------------------------- helpers

	long count(String title) {
		return app.count(title).block(Duration.ofSeconds(10));
	}

	/** Asked on a connection of its own, outside the pool under test. */
	long sessionsInTransaction() {
		return Mono.usingWhen(Mono.from(target().create()),
				c -> Flux.from(c.createStatement(sessionsInTransactionSql()).execute())
						.flatMap(r -> r.map((row, md) -> ((Number) row.get(0)).longValue())).next(),
				Connection::close).block(Duration.ofSeconds(10));
	}

	static void send(Socket socket, String request) throws Exception {
		OutputStream out = socket.getOutputStream();
		out.write(request.getBytes(StandardCharsets.US_ASCII));
		out.flush();
	}

	/** Reads until {@code n} lines of the body have arrived (after the blank line ending the headers). */
	static void readLines(InputStream in, int n) throws Exception {
		StringBuilder seen = new StringBuilder();
		int bodyLines = -1;
		while (bodyLines < n) {
			int b = in.read();
			assertThat(b).as("response ended early: %s", seen).isNotEqualTo(-1);
			seen.append((char) b);
			if (bodyLines < 0 && seen.toString().endsWith("\r\n\r\n")) {
				bodyLines = 0;
			}
			else if (bodyLines >= 0 && b == '\n' && seen.toString().matches("(?s).*\\d+:\\d+\\n$")) {
				bodyLines++;
			}
		}
	}

	/** Waits up to 10 s for {@code condition}; not a timing assertion: what never happens fails whatever the limit. */
	static void await(String what, BooleanSupplier condition) {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				throw new AssertionError("Not within 10 s: " + what);
			}
			try {
				Thread.sleep(10);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new AssertionError(e);
			}
		}
	}
}
