package io.tether.examples.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Bad input over real HTTP, one row per kind of mistake: the demo answers every one with a 4xx and the
 * {@code {"detail": ...}} body (a 405 also with {@code Allow}), never a 500. A few rows are valid edge cases
 * (lengths at their limit counted in characters, not UTF-16 units) and must be a 200 with the value stored
 * as sent. The requests go through Reactor Netty's client with raw bytes and raw paths, so malformed UTF-8
 * and invalid percent-encoding reach the server as they are.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class BadInputContract {

	private static final JsonMapper JSON = JsonMapper.builder().build();
	private static final String JSON_TYPE = "application/json";
	private static final String EMOJI = "\uD83D\uDE00";   // one character, two UTF-16 units

	abstract String databaseUrl();

	DemoServer server;
	HttpClient client;

	@BeforeAll
	void start() {
		server = DemoServer.start(DemoConfig.forTest(databaseUrl(), 0, Duration.ofMillis(1)));
		client = HttpClient.create().baseUrl(server.url()).responseTimeout(Duration.ofSeconds(30));
		Answer owner = send(new Case("owner", "POST", "/users", JSON_TYPE, utf8("{\"email\":\"owner@example.com\",\"password\":\"longenough\"}"), 200, ""));
		assertThat(owner.status()).as(owner.body()).isEqualTo(200);
		assertThat(JSON.readTree(owner.body()).get("id").asLong()).isEqualTo(1);
	}

	@AfterAll
	void stop() {
		if (server != null) {
			try {
				DemoServiceContract.assertAllReturned(server);
			}
			finally {
				server.close();
			}
		}
	}

	/** One request and what it must get: the status and a fragment of {@code detail} (or, for a 200, of the body). */
	record Case(String name, String method, String path, @Nullable String contentType, byte @Nullable [] body, int status,
			String expected) {

		@Override
		public String toString() {
			return name;
		}
	}

	record Answer(int status, HttpHeaders headers, String body) {
	}

	static Stream<Case> cases() {
		List<Case> c = new ArrayList<>();
		// malformed JSON
		c.add(post("truncated object", "/users", "{\"email\":", 400, "Malformed JSON"));
		c.add(post("unterminated object", "/users", "{\"email\":\"a@example.com\",\"password\":\"longenough\"", 400, "Malformed JSON"));
		c.add(post("single quotes", "/users", "{'email':'a@example.com','password':'longenough'}", 400, "Malformed JSON"));
		c.add(post("trailing comma", "/users", "{\"email\":\"a@example.com\",\"password\":\"longenough\",}", 400, "Malformed JSON"));
		c.add(post("comment", "/users", "/* hi */{\"email\":\"a@example.com\",\"password\":\"longenough\"}", 400, "Malformed JSON"));
		c.add(post("trailing garbage", "/users", "{\"email\":\"trail@example.com\",\"password\":\"longenough\"} x", 400, "Malformed JSON"));
		c.add(post("two objects", "/users", "{\"email\":\"two@example.com\",\"password\":\"longenough\"}{}", 400, "Malformed JSON"));
		c.add(post("NaN", "/users", "{\"email\":NaN,\"password\":\"longenough\"}", 400, "Malformed JSON"));
		c.add(post("unquoted key", "/users", "{email:\"a@example.com\"}", 400, "Malformed JSON"));
		c.add(post("bad escape", "/users", "{\"email\":\"a\\x@example.com\",\"password\":\"longenough\"}", 400, "Malformed JSON"));
		c.add(post("deep nesting", "/users", "{\"email\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 400, ""));
		c.add(post("empty body", "/users", "", 400, "Request body is missing"));
		c.add(post("blank body", "/users", "  \n ", 400, "Request body is missing"));
		c.add(post("array", "/users", "[1]", 400, "Expected a JSON object, got array"));
		c.add(post("string", "/users", "\"a@example.com\"", 400, "Expected a JSON object, got string"));
		c.add(post("number", "/users", "42", 400, "Expected a JSON object, got number"));
		c.add(post("JSON null", "/users", "null", 400, "Expected a JSON object, got null"));
		// wrong types
		c.add(post("email number", "/users", "{\"email\":5,\"password\":\"longenough\"}", 400, "email must be a string, was number"));
		c.add(post("email boolean", "/users", "{\"email\":true,\"password\":\"longenough\"}", 400, "email must be a string, was boolean"));
		c.add(post("email object", "/users", "{\"email\":{},\"password\":\"longenough\"}", 400, "email must be a string, was object"));
		c.add(post("email array", "/users", "{\"email\":[\"a@example.com\"],\"password\":\"longenough\"}", 400, "email must be a string, was array"));
		c.add(post("password number", "/users", "{\"email\":\"a@example.com\",\"password\":12345678}", 400, "password must be a string, was number"));
		c.add(post("title boolean", "/users/1/items", "{\"title\":true}", 400, "title must be a string, was boolean"));
		c.add(post("description object", "/users/1/items", "{\"title\":\"x\",\"description\":{}}", 400, "description must be a string, was object"));
		c.add(post("description number", "/users/1/items", "{\"title\":\"x\",\"description\":1}", 400, "description must be a string, was number"));
		// huge numbers
		c.add(post("email huge exponent", "/users", "{\"email\":1e999999,\"password\":\"longenough\"}", 400, "email must be a string"));
		c.add(post("email huge integer", "/users", "{\"email\":123456789012345678901234567890,\"password\":\"longenough\"}", 400, "email must be a string"));
		c.add(post("title 5000-digit number", "/users/1/items", "{\"title\":" + "9".repeat(5000) + "}", 400, ""));
		// missing fields and nulls
		c.add(post("empty object", "/users", "{}", 400, "email is required"));
		c.add(post("password missing", "/users", "{\"email\":\"a@example.com\"}", 400, "password is required"));
		c.add(post("title missing", "/users/1/items", "{\"description\":\"d\"}", 400, "title is required"));
		c.add(post("email null", "/users", "{\"email\":null,\"password\":\"longenough\"}", 400, "email is required"));
		c.add(post("password null", "/users", "{\"email\":\"a@example.com\",\"password\":null}", 400, "password is required"));
		c.add(post("title null", "/users/1/items", "{\"title\":null}", 400, "title is required"));
		// empty, invalid, overlong
		c.add(post("email empty", "/users", "{\"email\":\"\",\"password\":\"longenough\"}", 400, "email must not be empty"));
		c.add(post("title blank", "/users/1/items", "{\"title\":\"   \"}", 400, "title must not be empty"));
		c.add(post("description blank, which is allowed", "/users/1/items", "{\"title\":\"blank\",\"description\":\"  \"}", 200, "\"description\":\"\""));
		c.add(post("email without @", "/users", "{\"email\":\"no-at-sign\",\"password\":\"longenough\"}", 400, "email is not a valid e-mail address"));
		c.add(post("password short", "/users", "{\"email\":\"a@example.com\",\"password\":\"short\"}", 400, "password must have at least 8 characters"));
		c.add(post("email 255 characters", "/users", user("a".repeat(243) + "@example.com", "longenough"), 400, "email must have at most 254 characters, had 255"));
		c.add(post("password 1025 characters", "/users", user("long@example.com", "p".repeat(1025)), 400, "password must have at most 1024 characters, had 1025"));
		c.add(post("title 201 characters", "/users/1/items", item("t".repeat(201), null), 400, "title must have at most 200 characters, had 201"));
		c.add(post("description 1001 characters", "/users/1/items", item("t", "d".repeat(1001)), 400, "description must have at most 1000 characters, had 1001"));
		// U+0130 lower-cases to two characters (i and a combining dot): 254 before, 354 after
		c.add(post("email longer once lower-cased", "/users", user("\u0130".repeat(100) + "a".repeat(142) + "@example.com", "longenough"),
				400, "email must have at most 254 characters, had 354"));
		// lengths in characters (code points), not UTF-16 units
		c.add(post("title 200 emoji", "/users/1/items", item(EMOJI.repeat(200), null), 200, EMOJI.repeat(200)));
		c.add(post("title 201 emoji", "/users/1/items", item(EMOJI.repeat(201), null), 400, "title must have at most 200 characters, had 201"));
		c.add(post("description 1000 emoji", "/users/1/items", item("t", EMOJI.repeat(1000)), 200, EMOJI.repeat(1000)));
		c.add(post("email of 254 characters with emoji", "/users", user(EMOJI.repeat(242) + "@example.com", "longenough"), 200, EMOJI.repeat(242) + "@example.com"));
		c.add(post("password of 7 emoji", "/users", user("seven@example.com", EMOJI.repeat(7)), 400, "password must have at least 8 characters, had 7"));
		// characters no database column can hold as sent
		c.add(post("NUL in email", "/users", user("nul\u0000@example.com", "longenough"), 400, "email must not contain the NUL character"));
		c.add(post("NUL in title", "/users/1/items", item("a\u0000b", null), 400, "title must not contain the NUL character"));
		c.add(post("NUL in description", "/users/1/items", item("t", "\u0000"), 400, "description must not contain the NUL character"));
		c.add(post("NUL in password", "/users", user("nulpw@example.com", "longenough\u0000"), 400, "password must not contain the NUL character"));
		c.add(post("lone high surrogate", "/users/1/items", "{\"title\":\"a\\ud800b\"}", 400, "title contains an unpaired surrogate"));
		c.add(post("lone low surrogate", "/users", "{\"email\":\"\\udc00@example.com\",\"password\":\"longenough\"}", 400, "email contains an unpaired surrogate"));
		c.add(post("reversed surrogate pair", "/users/1/items", "{\"title\":\"\\ude00\\ud83d\"}", 400, "title contains an unpaired surrogate"));
		// bytes that are not UTF-8
		c.add(raw("byte 0xFF", "/users/1/items", JSON_TYPE, bytes("{\"title\":\"a", 0xFF, "\"}"), 400, "not valid UTF-8"));
		c.add(raw("Latin-1 e-acute", "/users/1/items", JSON_TYPE, bytes("{\"title\":\"caf", 0xE9, "\"}"), 400, "not valid UTF-8"));
		c.add(raw("overlong slash", "/users/1/items", JSON_TYPE, bytes("{\"title\":\"", 0xC0, 0xAF, "\"}"), 400, "not valid UTF-8"));
		c.add(raw("encoded surrogate", "/users/1/items", JSON_TYPE, bytes("{\"title\":\"", 0xED, 0xA0, 0x80, "\"}"), 400, "not valid UTF-8"));
		c.add(raw("truncated sequence", "/users/1/items", JSON_TYPE, bytes("{\"title\":\"", 0xE2, 0x82), 400, "not valid UTF-8"));
		c.add(raw("UTF-16 body", "/users/1/items", JSON_TYPE, "{\"title\":\"x\"}".getBytes(StandardCharsets.UTF_16), 400, ""));
		// size and media type
		c.add(raw("2 MB body", "/users", JSON_TYPE, user("big@example.com", "x".repeat(2 * 1024 * 1024)).getBytes(StandardCharsets.UTF_8), 413, "Request body too large"));
		c.add(raw("2 MB of whitespace", "/users/1/items", JSON_TYPE, (" ".repeat(2 * 1024 * 1024) + "{\"title\":\"x\"}").getBytes(StandardCharsets.UTF_8), 413, "Request body too large"));
		c.add(raw("text/plain", "/users", "text/plain", utf8(user("plain@example.com", "longenough")), 415, "Content-Type must be application/json"));
		c.add(raw("form", "/users", "application/x-www-form-urlencoded", utf8("email=form%40example.com&password=longenough"), 415, "Content-Type must be application/json"));
		c.add(raw("XML", "/users/1/items", "application/xml", utf8("<title>x</title>"), 415, "Content-Type must be application/json"));
		c.add(raw("JSON in Latin-1", "/users/1/items", "application/json; charset=ISO-8859-1", utf8("{\"title\":\"x\"}"), 415, "UTF-8"));
		c.add(raw("garbage Content-Type", "/users/1/items", "not a media type", utf8("{\"title\":\"x\"}"), 415, "Content-Type must be application/json"));
		// path ids
		c.add(get("id not a number", "/users/abc", 400, "user id must be an integer, was 'abc'"));
		c.add(get("id negative", "/users/-1", 400, "user id must be >= 1, was -1"));
		c.add(get("id zero", "/users/0", 400, "user id must be >= 1, was 0"));
		c.add(get("id decimal", "/users/1.5", 400, "user id must be an integer"));
		c.add(get("id overflow", "/users/99999999999999999999", 400, "user id must be an integer, was '99999999999999999999'"));
		c.add(get("id blank", "/users/%20", 400, "user id must be an integer"));
		c.add(get("id NUL", "/users/1%00", 400, "user id must be an integer"));
		c.add(get("id bad percent-encoding", "/users/%zz", 400, ""));
		c.add(get("id invalid UTF-8", "/users/%FF", 400, "user id must be an integer"));
		c.add(get("id largest long, no such user", "/users/9223372036854775807", 404, "User not found"));
		c.add(post("items of non-numeric id", "/users/abc/items", item("x", null), 400, "user id must be an integer, was 'abc'"));
		c.add(post("items of negative id", "/users/-5/items", item("x", null), 400, "user id must be >= 1, was -5"));
		c.add(post("items of unknown user", "/users/424242/items", item("x", null), 404, "User not found"));
		// paging
		c.add(get("limit 0", "/users?limit=0", 400, "limit must be between 1 and 100, was 0"));
		c.add(get("limit 101", "/users?limit=101", 400, "limit must be between 1 and 100, was 101"));
		c.add(get("limit negative", "/items?limit=-1", 400, "limit must be between 1 and 100, was -1"));
		c.add(get("limit empty", "/users?limit=", 400, "limit must be an integer, was ''"));
		c.add(get("limit exponent", "/users?limit=1e2", 400, "limit must be an integer, was '1e2'"));
		c.add(get("limit overflow", "/slowusers?limit=99999999999999999999", 400, "limit must be an integer"));
		c.add(get("skip negative", "/users?skip=-1", 400, "skip must be >= 0, was -1"));
		c.add(get("skip text", "/items?skip=ten", 400, "skip must be an integer, was 'ten'"));
		c.add(get("skip bad percent-encoding", "/users?skip=%zz", 400, "skip"));
		c.add(get("skip largest long", "/users?skip=9223372036854775807", 200, "[]"));
		// methods and routes
		c.add(send("DELETE /users", "DELETE", "/users", 405, "GET, HEAD, POST"));
		c.add(send("PUT /users/1", "PUT", "/users/1", 405, "GET, HEAD"));
		c.add(send("PATCH /items", "PATCH", "/items", 405, "GET, HEAD"));
		c.add(send("POST /slowusers", "POST", "/slowusers", 405, "GET, HEAD"));
		c.add(send("GET /users/1/items", "GET", "/users/1/items", 405, "POST"));
		c.add(send("DELETE /stats", "DELETE", "/stats", 405, "GET, HEAD"));
		c.add(get("unknown route", "/nope", 404, "Not Found"));
		c.add(get("root", "/", 404, "Not Found"));
		c.add(get("trailing slash", "/users/1/", 404, "Not Found"));
		c.add(get("route of a route", "/users/1/items/2", 404, "Not Found"));
		return c.stream();
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void neverA500(Case c) {
		Answer answer = send(c);

		assertThat(answer.status()).as("%s %s answered %s", c.method(), c.path(), abbreviate(answer.body())).isEqualTo(c.status());
		assertThat(answer.headers().get("Content-Type")).as("Content-Type of %s %s", answer.headers(), abbreviate(answer.body())).startsWith(JSON_TYPE);
		JsonNode body = JSON.readTree(answer.body());
		if (c.status() == 200) {
			assertThat(answer.body()).contains(c.expected());
			return;
		}
		assertThat(body.isObject() && body.get("detail") != null && body.get("detail").isString())
				.as("a {\"detail\": \"...\"} body, was %s", abbreviate(answer.body())).isTrue();
		String detail = body.get("detail").asString();
		if (c.status() == 405) {
			assertThat(answer.headers().get("Allow")).as("Allow").isEqualTo(c.expected());
			assertThat(detail).contains(c.method()).contains(c.expected());
		}
		else {
			assertThat(detail).contains(c.expected());
		}
	}

	private Answer send(Case c) {
		HttpClient.RequestSender request = client
				.headers(h -> {
					if (c.contentType() != null) {
						h.set("Content-Type", c.contentType());
					}
				})
				.request(HttpMethod.valueOf(c.method())).uri(c.path());
		HttpClient.ResponseReceiver<?> sent = c.body() == null ? request
				: request.send(Mono.just(Unpooled.wrappedBuffer(c.body())));
		return sent.responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
						.map(text -> new Answer(response.status().code(), response.responseHeaders(), text)))
				.block(Duration.ofSeconds(60));
	}

	private static Case post(String name, String path, String body, int status, String expected) {
		return raw(name, path, JSON_TYPE, utf8(body), status, expected);
	}

	private static Case raw(String name, String path, String contentType, byte[] body, int status, String expected) {
		return new Case(name, "POST", path, contentType, body, status, expected);
	}

	private static Case get(String name, String path, int status, String expected) {
		return send(name, "GET", path, status, expected);
	}

	private static Case send(String name, String method, String path, int status, String expected) {
		return new Case(name, method, path, null, null, status, expected);
	}

	private static String user(String email, String password) {
		return JSON.writeValueAsString(Map.of("email", email, "password", password));
	}

	private static String item(String title, @Nullable String description) {
		return description == null ? JSON.writeValueAsString(Map.of("title", title))
				: JSON.writeValueAsString(Map.of("title", title, "description", description));
	}

	private static byte[] utf8(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	/** Text as UTF-8, integers as single raw bytes. */
	private static byte[] bytes(Object... parts) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		for (Object part : parts) {
			if (part instanceof Integer b) {
				out.write(b);
			}
			else {
				out.writeBytes(utf8((String) part));
			}
		}
		return out.toByteArray();
	}

	private static String abbreviate(String s) {
		return s.length() > 300 ? s.substring(0, 300) + "..." : s;
	}
}
