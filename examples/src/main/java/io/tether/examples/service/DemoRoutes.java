package io.tether.examples.service;

import static org.springframework.web.reactive.function.server.RouterFunctions.route;

import io.tether.core.Database;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The endpoints of the original {@code main.py}. Input is checked by hand so that every mistake gets a 400
 * with a message ({@code {"detail": ...}}, FastAPI's shape): malformed JSON, wrong types, missing fields,
 * bad e-mail addresses, non-numeric ids and out-of-range paging.
 */
final class DemoRoutes {

	private static final Logger log = LoggerFactory.getLogger(DemoRoutes.class);
	private static final Pattern EMAIL = Pattern.compile("^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$");
	static final int MAX_LIMIT = 100;

	private final UserStore store;
	private final Passwords passwords;
	private final JsonMapper json = JsonMapper.builder().build();
	private final AtomicInteger slowCountdown;
	private final Duration slowUnit;

	DemoRoutes(Database db, DemoConfig config) {
		this.store = new UserStore(db);
		this.passwords = new Passwords(config.passwordIterations());
		this.slowCountdown = new AtomicInteger(config.slowStart());
		this.slowUnit = config.slowUnit();
	}

	UserStore store() {
		return store;
	}

	RouterFunction<ServerResponse> routes() {
		return route()
				.POST("/users", this::createUser)
				.GET("/users", this::listUsers)
				.GET("/users/{id}", this::getUser)
				.POST("/users/{id}/items", this::createItem)
				.GET("/items", this::listItems)
				.GET("/slowusers", this::slowUsers)
				.onError(ApiException.class, (e, request) -> error(e.status(), e.getMessage()))
				.onError(e -> !(e instanceof ApiException), (e, request) -> {
					log.error("{} {} failed", request.method(), request.path(), e);
					return error(HttpStatus.INTERNAL_SERVER_ERROR, "Internal Server Error");
				})
				.build();
	}

	// ---------------------------------------------------------------- handlers

	private Mono<ServerResponse> createUser(ServerRequest request) {
		return body(request).flatMap(body -> {
			String email = text(body, "email", true, 254).toLowerCase(java.util.Locale.ROOT);
			String password = text(body, "password", true, 1024);
			if (!EMAIL.matcher(email).matches()) {
				return Mono.error(ApiException.badRequest("email is not a valid e-mail address"));
			}
			if (password.length() < 8) {
				return Mono.error(ApiException.badRequest("password must have at least 8 characters"));
			}
			return store.emailTaken(email).flatMap(taken -> taken
					? Mono.error(ApiException.badRequest("Email already registered"))
					// PBKDF2 is deliberately slow: off the event loop.
					: Mono.fromCallable(() -> passwords.hash(password)).subscribeOn(Schedulers.boundedElastic())
							.flatMap(hash -> store.create(email, hash)));
		}).flatMap(user -> ServerResponse.ok().bodyValue(user));
	}

	private Mono<ServerResponse> listUsers(ServerRequest request) {
		return Mono.fromSupplier(() -> paging(request))
				.flatMap(p -> store.list(p.skip(), p.limit()))
				.flatMap(users -> ServerResponse.ok().bodyValue(users));
	}

	private Mono<ServerResponse> getUser(ServerRequest request) {
		return Mono.fromSupplier(() -> id(request))
				.flatMap(id -> store.find(id).switchIfEmpty(Mono.error(() -> ApiException.notFound("User not found"))))
				.flatMap(user -> ServerResponse.ok().bodyValue(user));
	}

	private Mono<ServerResponse> createItem(ServerRequest request) {
		return Mono.fromSupplier(() -> id(request)).flatMap(owner -> body(request).flatMap(body -> {
			String title = text(body, "title", true, 200);
			String description = optionalText(body, "description", 1000);
			return store.find(owner)
					.switchIfEmpty(Mono.error(() -> ApiException.notFound("User not found")))
					.then(Mono.defer(() -> store.addItem(owner, title, description)));
		})).flatMap(item -> ServerResponse.ok().bodyValue(item));
	}

	private Mono<ServerResponse> listItems(ServerRequest request) {
		return Mono.fromSupplier(() -> paging(request))
				.flatMap(p -> store.items(p.skip(), p.limit()))
				.flatMap(items -> ServerResponse.ok().bodyValue(items));
	}

	/**
	 * The experiment of the original: the first call waits {@code slowStart} units, each later call one unit
	 * less. The request takes its connection first (it counts the users) and keeps it across the wait, as
	 * the original did; the wait is a timer, so no thread is blocked meanwhile.
	 */
	private Mono<ServerResponse> slowUsers(ServerRequest request) {
		return Mono.fromSupplier(() -> paging(request)).flatMap(p -> {
			int units = slowCountdown.getAndUpdate(n -> Math.max(0, n - 1));
			return store.count()
					.then(Mono.delay(slowUnit.multipliedBy(units)))
					.then(store.list(p.skip(), p.limit()));
		}).flatMap(users -> ServerResponse.ok().bodyValue(users));
	}

	// ---------------------------------------------------------------- input

	record Paging(long skip, int limit) {
	}

	static Paging paging(ServerRequest request) {
		long skip = number(request.queryParam("skip"), "skip", 0);
		long limit = number(request.queryParam("limit"), "limit", MAX_LIMIT);
		if (skip < 0) {
			throw ApiException.badRequest("skip must be >= 0, was " + skip);
		}
		if (limit < 1 || limit > MAX_LIMIT) {
			throw ApiException.badRequest("limit must be between 1 and " + MAX_LIMIT + ", was " + limit);
		}
		return new Paging(skip, (int) limit);
	}

	static long id(ServerRequest request) {
		long id = number(Optional.of(request.pathVariable("id")), "user id", 0);
		if (id < 1) {
			throw ApiException.badRequest("user id must be >= 1, was " + id);
		}
		return id;
	}

	private static long number(Optional<String> value, String name, long orElse) {
		if (value.isEmpty()) {
			return orElse;
		}
		try {
			return Long.parseLong(value.get().trim());
		}
		catch (NumberFormatException e) {
			throw ApiException.badRequest(name + " must be an integer, was '" + abbreviate(value.get()) + "'");
		}
	}

	private Mono<JsonNode> body(ServerRequest request) {
		return request.bodyToMono(String.class)
				.switchIfEmpty(Mono.error(() -> ApiException.badRequest("Request body is missing: expected a JSON object")))
				.map(text -> {
					JsonNode node;
					try {
						node = json.readTree(text);
					}
					catch (JacksonException e) {
						throw ApiException.badRequest("Malformed JSON: " + e.getOriginalMessage());
					}
					if (node == null || !node.isObject()) {
						throw ApiException.badRequest("Expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
					}
					return node;
				});
	}

	/** The optional string field {@code name}, null when absent or null, at most {@code max} characters. */
	private static @Nullable String optionalText(JsonNode body, String name, int max) {
		JsonNode value = body.get(name);
		return value == null || value.isNull() ? null : text(body, name, false, max);
	}

	/** The string field {@code name}, trimmed, at most {@code max} characters. */
	private static String text(JsonNode body, String name, boolean required, int max) {
		JsonNode value = body.get(name);
		if (value == null || value.isNull()) {
			throw ApiException.badRequest(name + " is required");
		}
		if (!value.isString()) {
			throw ApiException.badRequest(name + " must be a string, was " + value.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
		}
		String text = value.asString().trim();
		if (required && text.isEmpty()) {
			throw ApiException.badRequest(name + " must not be empty");
		}
		if (text.length() > max) {
			throw ApiException.badRequest(name + " must have at most " + max + " characters, had " + text.length());
		}
		return text;
	}

	private static String abbreviate(String s) {
		return s.length() > 40 ? s.substring(0, 40) + "..." : s;
	}

	private static Mono<ServerResponse> error(HttpStatus status, @Nullable String detail) {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("detail", detail == null ? status.getReasonPhrase() : detail);
		return ServerResponse.status(status).bodyValue(body);
	}

	static List<String> endpoints() {
		return List.of("POST /users", "GET /users?skip=&limit=", "GET /users/{id}", "POST /users/{id}/items",
				"GET /items?skip=&limit=", "GET /slowusers?skip=&limit=");
	}
}
