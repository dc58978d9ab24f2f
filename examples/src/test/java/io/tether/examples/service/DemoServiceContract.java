package io.tether.examples.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
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
					.exchange().expectStatus().isOk();
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
		// The client has the last body before the server's exchange has ended and given its connection back.
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (server.pool().stats().acquired() != 0 && System.nanoTime() < deadline) {
			Thread.onSpinWait();
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
		assertThat(summary.line()).startsWith("requests=10 errors=0 p50=").contains("all responses the same list: yes");
	}
}
