package io.tether.examples.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;

/**
 * The demo service over real HTTP on one database: the concurrency experiment of the source document
 * (ten overlapping {@code /slowusers}, all 200 with the same list) and the pool fully returned afterwards.
 * The countdown starts at 10 units of 200 ms, so the first request waits 2 s instead of 10.
 */
abstract class DemoServiceContract {

	static final ParameterizedTypeReference<List<Map<String, Object>>> USERS = new ParameterizedTypeReference<>() {
	};

	abstract String databaseUrl();

	DemoServer server;
	WebTestClient http;

	@BeforeEach
	void start() {
		server = DemoServer.start(DemoConfig.forTest(databaseUrl(), 10, Duration.ofMillis(200)));
		http = WebTestClient.bindToServer().baseUrl(server.url()).responseTimeout(Duration.ofSeconds(30)).build();
	}

	@AfterEach
	void stop() {
		server.close();
	}

	@Test
	void tenOverlappingSlowRequestsAllSucceedWithTheSameList() {
		for (String email : List.of("ann@example.com", "bob@example.com", "cy@example.com")) {
			http.post().uri("/users").bodyValue(Map.of("email", email, "password", "password of " + email))
					.exchange().expectStatus().isOk().expectBody(Void.class);   // read and released, see DemoApiTest
		}
		WebClient client = WebClient.create(server.url());

		List<List<Map<String, Object>>> responses = Flux.range(0, 10)
				.flatMap(i -> client.get().uri("/slowusers").retrieve().bodyToMono(USERS), 10)
				.collectList().block(Duration.ofSeconds(60));

		assertThat(responses).hasSize(10);   // retrieve() fails on any non-2xx status
		assertThat(responses.get(0)).extracting(u -> u.get("email"))
				.containsExactly("ann@example.com", "bob@example.com", "cy@example.com");
		assertThat(responses).allSatisfy(r -> assertThat(r).isEqualTo(responses.get(0)));
		assertThat(((Number) server.stats().get("peak_connections_in_use")).intValue())
				.as("requests held their connections across their waits at the same time").isGreaterThan(1);
		assertAllReturned(server);
	}

	/**
	 * Every connection the server acquired is back in its pool. A request gives its connection back just after
	 * its response is written, so a client can hold the answer a moment before that: this waits for it, up to
	 * 10 s (a hang guard; a leaked connection never comes back).
	 */
	static void assertAllReturned(DemoServer server) {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (server.pool().stats().acquired() > 0 && System.nanoTime() < deadline) {
			LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
		}
		assertThat(server.pool().stats().acquired()).as("connections still checked out").isZero();
	}

	@Test
	void theLoadCommandReportsOneLine() {
		LoadCommand.Summary summary = LoadCommand.run(server.url(), 10, 2);

		assertThat(summary.requests()).isEqualTo(10);
		assertThat(summary.errors()).isZero();
		assertThat(summary.sameList()).isTrue();
		assertThat(summary.peakConnections()).isBetween(1, 20);
		assertThat(summary.line()).startsWith("requests=10 errors=0 p50=").endsWith("all responses the same list: yes");
	}

	@Test
	void theLoadCommandReadsResponsesOfAnySize() {
		// 300 items of 1,000 characters: each /slowusers answer is over 300 KB (its client used to stop at 256 KB)
		http.post().uri("/users").bodyValue(Map.of("email", "hoarder@example.com", "password", "many things")).exchange().expectStatus().isOk()
				.expectBody(Void.class);
		// 300 rows in one batch: over the 1 s warning threshold on a busy machine, which is not what this test is about
		io.tether.core.Batch items = io.tether.core.Database.builder(server.pool()).slowStatementThreshold(Duration.ofMinutes(1)).build()
				.batch("insert into items (title, description, owner_id) values (:title, :description, 1)");
		for (int i = 1; i <= 300; i++) {
			items = items.add(Map.of("title", "item " + i, "description", "d".repeat(1000)));
		}
		items.rowsUpdated().blockLast(Duration.ofMinutes(1));

		LoadCommand.Summary summary = LoadCommand.run(server.url(), 10, 1);

		assertThat(summary.causes()).isEmpty();
		assertThat(summary.errors()).isZero();
		assertThat(summary.sameList()).isTrue();
	}

	@Test
	void theLoadCommandSaysWhyRequestsFailed() {
		// five overlapping requests wait 10, 9, 8, 7 and 6 units of 200 ms: each is still waiting after 100 ms
		LoadCommand.Summary summary = LoadCommand.run(server.url(), 5, 1, Duration.ofMillis(100));

		assertThat(summary.errors()).isEqualTo(5);
		assertThat(summary.causes()).containsExactly(Map.entry("no response within 100ms", 5L));
		assertThat(summary.line()).startsWith("requests=5 errors=5 p50=")
				.endsWith("all responses the same list: NO; errors: 5 x no response within 100ms");
		assertAllReturned(server);   // the requests the client gave up on released their connections on the server
	}
}
