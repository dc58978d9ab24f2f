package io.tether.examples.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.client.WebClient;
import tools.jackson.databind.json.JsonMapper;

/**
 * The demo's endpoints over real HTTP on H2: what the README's curl session shows, and every 400.
 *
 * <p>Every exchange ends with an {@code expectBody}: {@code WebTestClient} leaves a body nobody asked for unread
 * in Reactor Netty's inbound queue, where nothing releases it (the client's connection stays with the unread
 * response until the server closes it, then the rest of the body is read and queued); Netty reports it as a
 * {@code LEAK} once it is garbage-collected. {@code expectBody(Void.class)} reads and releases a body the test
 * has no use for.
 */
class DemoApiTest {

	private static final ParameterizedTypeReference<Map<String, Object>> DETAIL = new ParameterizedTypeReference<>() {
	};

	DemoServer server;
	WebTestClient http;

	@BeforeEach
	void start() {
		server = DemoServer.start(DemoConfig.forTest(DemoConfig.inMemoryH2("api_" + UUID.randomUUID().toString().replace("-", "")),
				5, Duration.ofMillis(200)));
		http = WebTestClient.bindToServer().baseUrl(server.url()).responseTimeout(Duration.ofSeconds(30)).build();
	}

	@AfterEach
	void stop() {
		server.close();
	}

	@Test
	void usersAndItems() {
		http.post().uri("/users").bodyValue(Map.of("email", "alice@example.com", "password", "wonderland1")).exchange()
				.expectStatus().isOk().expectBody(Object.class).isEqualTo(json("{\"id\":1,\"email\":\"alice@example.com\",\"is_active\":true,\"items\":[]}"));
		http.post().uri("/users").bodyValue(Map.of("email", "alice@example.com", "password", "wonderland2")).exchange()
				.expectStatus().isBadRequest().expectBody(Object.class).isEqualTo(json("{\"detail\":\"Email already registered\"}"));
		http.post().uri("/users/1/items").bodyValue(Map.of("title", "pen", "description", "blue")).exchange()
				.expectStatus().isOk().expectBody(Object.class).isEqualTo(json("{\"id\":1,\"title\":\"pen\",\"description\":\"blue\",\"owner_id\":1}"));
		http.post().uri("/users/1/items").bodyValue(Map.of("title", "ink")).exchange()
				.expectStatus().isOk().expectBody(Object.class).isEqualTo(json("{\"id\":2,\"title\":\"ink\",\"description\":null,\"owner_id\":1}"));

		String alice = "{\"id\":1,\"email\":\"alice@example.com\",\"is_active\":true,\"items\":["
				+ "{\"id\":1,\"title\":\"pen\",\"description\":\"blue\",\"owner_id\":1},"
				+ "{\"id\":2,\"title\":\"ink\",\"description\":null,\"owner_id\":1}]}";
		http.get().uri("/users").exchange().expectStatus().isOk().expectBody(Object.class).isEqualTo(json("[" + alice + "]"));
		http.get().uri("/users/1").exchange().expectStatus().isOk().expectBody(Object.class).isEqualTo(json(alice));
		http.get().uri("/users?skip=1&limit=10").exchange().expectStatus().isOk().expectBody(Object.class).isEqualTo(json("[]"));
		http.get().uri("/items?limit=1").exchange().expectStatus().isOk()
				.expectBody(Object.class).isEqualTo(json("[{\"id\":1,\"title\":\"pen\",\"description\":\"blue\",\"owner_id\":1}]"));
		http.get().uri("/users/2").exchange().expectStatus().isNotFound().expectBody(Object.class).isEqualTo(json("{\"detail\":\"User not found\"}"));
		http.post().uri("/users/2/items").bodyValue(Map.of("title", "x")).exchange().expectStatus().isNotFound()
				.expectBody(Object.class).isEqualTo(json("{\"detail\":\"User not found\"}"));
	}

	@Test
	void passwordsAreStoredAsSaltedPbkdf2Hashes() {
		for (String email : List.of("p1@example.com", "p2@example.com")) {
			http.post().uri("/users").bodyValue(Map.of("email", email, "password", "same password")).exchange().expectStatus().isOk()
					.expectBody(Void.class);
		}
		List<String> hashes = io.tether.core.Database.of(server.pool())
				.sql("select hashed_password from users order by id").mapTo(String.class).all().collectList().block();

		assertThat(hashes).hasSize(2).allSatisfy(h -> {
			assertThat(h).startsWith("pbkdf2-sha512$1000$").doesNotContain("same password");
			assertThat(Passwords.matches("same password", h)).isTrue();
			assertThat(Passwords.matches("other password", h)).isFalse();
		});
		assertThat(hashes.get(0)).as("a salt per user").isNotEqualTo(hashes.get(1));
	}

	@Test
	void badInputIsA400WithAMessage() {
		badRequest("/users", "{\"email\":", "Malformed JSON");
		badRequest("/users", "", "Request body is missing");
		badRequest("/users", "[1]", "Expected a JSON object, got array");
		badRequest("/users", "{\"email\":5,\"password\":\"longenough\"}", "email must be a string, was number");
		badRequest("/users", "{\"password\":\"longenough\"}", "email is required");
		badRequest("/users", "{\"email\":\"no-at-sign\",\"password\":\"longenough\"}", "email is not a valid e-mail address");
		badRequest("/users", "{\"email\":\"a@example.com\",\"password\":\"short\"}", "password must have at least 8 characters");
		badRequest("/users", "{\"email\":\"a@example.com\",\"password\":[\"x\"]}", "password must be a string, was array");
		http.post().uri("/users").bodyValue(Map.of("email", "owner@example.com", "password", "longenough")).exchange().expectStatus().isOk()
				.expectBody(Void.class);
		badRequest("/users/1/items", "{\"title\":true}", "title must be a string, was boolean");
		badRequest("/users/1/items", "{\"title\":\"x\",\"description\":{}}", "description must be a string, was object");
		badRequest("/users/abc/items", "{\"title\":\"x\"}", "user id must be an integer, was 'abc'");

		badGet("/users?limit=0", "limit must be between 1 and 100, was 0");
		badGet("/users?limit=101", "limit must be between 1 and 100, was 101");
		badGet("/users?skip=-1", "skip must be >= 0, was -1");
		badGet("/items?skip=ten", "skip must be an integer, was 'ten'");
		badGet("/slowusers?limit=x", "limit must be an integer, was 'x'");
		badGet("/users/abc", "user id must be an integer, was 'abc'");
		badGet("/users/0", "user id must be >= 1, was 0");
		badGet("/users/99999999999999999999", "user id must be an integer, was '99999999999999999999'");
	}

	@Test
	void headAnswersWhereGetDoesWithoutABody() {
		http.head().uri("/users").exchange().expectStatus().isOk().expectBody().isEmpty();
		http.head().uri("/stats").exchange().expectStatus().isOk().expectBody().isEmpty();
		http.head().uri("/nope").exchange().expectStatus().isNotFound().expectBody().isEmpty();
		http.method(org.springframework.http.HttpMethod.OPTIONS).uri("/users").exchange()
				.expectStatus().isEqualTo(405).expectHeader().valueEquals("Allow", "GET, HEAD, POST")
				.expectBody(Void.class);
	}

	@Test
	void aShutdownLetsRequestsInFlightFinishAndClosesThePool() throws Exception {
		CompletableFuture<String> slow = WebClient.create(server.url()).get().uri("/slowusers")
				.retrieve().bodyToMono(String.class).toFuture();
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (server.pool().stats().acquired() == 0 && System.nanoTime() < deadline) {
			Thread.sleep(5);   // until the request holds its connection, waiting out its countdown
		}
		assertThat(server.pool().stats().acquired()).as("the slow request in flight").isEqualTo(1);

		server.close();

		assertThat(slow.get()).isEqualTo("[]");
		assertThat(server.pool().isClosed()).isTrue();
		assertThat(server.pool().stats().allocated()).as("physical connections left open").isZero();
	}

	private static Object json(String text) {
		return JsonMapper.builder().build().readValue(text, Object.class);
	}

	private void badRequest(String uri, String body, String detail) {
		Map<String, Object> answer = http.post().uri(uri).contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange()
				.expectStatus().isBadRequest().expectBody(DETAIL).returnResult().getResponseBody();
		assertThat(answer).containsKey("detail");
		assertThat(answer.get("detail")).asString().contains(detail);
	}

	private void badGet(String uri, String detail) {
		Map<String, Object> body = http.get().uri(uri).exchange()
				.expectStatus().isBadRequest().expectBody(DETAIL).returnResult().getResponseBody();
		assertThat(body).containsKey("detail");
		assertThat(body.get("detail")).asString().contains(detail);
	}
}
