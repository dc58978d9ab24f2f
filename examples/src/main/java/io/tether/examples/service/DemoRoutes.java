package io.tether.examples.service;

import static org.springframework.web.reactive.function.server.RouterFunctions.route;

import io.tether.core.Database;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.BodyExtractors;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The endpoints of the original {@code main.py}. Input is checked by hand so that every mistake a client can
 * make gets a 4xx with a message ({@code {"detail": ...}}, FastAPI's shape), never a 500: malformed JSON or
 * UTF-8, wrong types, missing fields, bad e-mail addresses, strings a column cannot hold (too long in
 * characters once normalised, a NUL, an unpaired surrogate), non-numeric ids and out-of-range paging are a
 * 400; a body over {@link #MAX_BODY_BYTES} a 413; a body that is not JSON a 415; an unknown path a 404 and a
 * known path with the wrong method a 405 with {@code Allow}.
 */
final class DemoRoutes {

	private static final Logger log = LoggerFactory.getLogger(DemoRoutes.class);
	private static final Pattern EMAIL = Pattern.compile("^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$");
	static final int MAX_LIMIT = 100;
	/** Far above the largest valid body (1,200 characters of text, even at 12 bytes each as JSON escapes). */
	static final int MAX_BODY_BYTES = 64 * 1024;
	static final int MIN_PASSWORD_CHARS = 8;
	static final int MAX_PASSWORD_CHARS = 1024;

	/** One endpoint: a GET also answers HEAD. */
	private record Endpoint(HttpMethod method, PathPattern pattern, HandlerFunction<ServerResponse> handler) {

		Endpoint(HttpMethod method, String path, HandlerFunction<ServerResponse> handler) {
			this(method, PathPatternParser.defaultInstance.parse(path), handler);
		}
	}

	private final UserStore store;
	private final Passwords passwords;
	private final JsonMapper json = JsonMapper.builder().build();
	private final AtomicInteger slowCountdown;
	private final Duration slowUnit;

	private final List<Endpoint> endpoints;

	/**
	 * @param databaseProduct the R2DBC driver's product name ({@code H2}, {@code PostgreSQL}): how the store
	 *                        sizes its columns
	 * @param stats           what {@code GET /stats} answers
	 */
	DemoRoutes(Database db, String databaseProduct, DemoConfig config, Supplier<Map<String, Object>> stats) {
		this.store = new UserStore(db, databaseProduct);
		this.passwords = new Passwords(config.passwordIterations());
		this.slowCountdown = new AtomicInteger(config.slowStart());
		this.slowUnit = config.slowUnit();
		this.endpoints = List.of(
				new Endpoint(HttpMethod.POST, "/users", this::createUser),
				new Endpoint(HttpMethod.GET, "/users", this::listUsers),
				new Endpoint(HttpMethod.GET, "/users/{id}", this::getUser),
				new Endpoint(HttpMethod.POST, "/users/{id}/items", this::createItem),
				new Endpoint(HttpMethod.GET, "/items", this::listItems),
				new Endpoint(HttpMethod.GET, "/slowusers", this::slowUsers),
				new Endpoint(HttpMethod.GET, "/stats", request -> ServerResponse.ok().bodyValue(stats.get())));
	}

	UserStore store() {
		return store;
	}

	RouterFunction<ServerResponse> routes() {
		RouterFunctions.Builder routes = route();
		for (Endpoint e : endpoints) {
			routes.route(RequestPredicates.path(e.pattern().getPatternString()).and(e.method() == HttpMethod.GET
					? RequestPredicates.method(HttpMethod.GET).or(RequestPredicates.method(HttpMethod.HEAD))
					: RequestPredicates.method(e.method())), e.handler());
		}
		return routes
				.route(RequestPredicates.all(), this::noEndpoint)
				.onError(ApiException.class, (e, request) -> error(e.status(), e.getMessage()))
				.onError(e -> !(e instanceof ApiException), (e, request) -> {
					log.error("{} {} failed", request.method(), request.path(), e);
					return error(HttpStatus.INTERNAL_SERVER_ERROR, "Internal Server Error");
				})
				.build();
	}

	// ---------------------------------------------------------------- handlers

	/** No endpoint matched: a 405 with {@code Allow} if another method would have, else a 404. */
	private Mono<ServerResponse> noEndpoint(ServerRequest request) {
		TreeSet<String> allowed = new TreeSet<>();
		for (Endpoint e : endpoints) {
			if (e.pattern().matches(request.requestPath().pathWithinApplication())) {
				allowed.add(e.method().name());
				if (e.method() == HttpMethod.GET) {
					allowed.add(HttpMethod.HEAD.name());
				}
			}
		}
		if (allowed.isEmpty()) {
			return error(HttpStatus.NOT_FOUND, "Not Found: no endpoint at " + abbreviate(request.path()) + "; the endpoints are "
					+ String.join(", ", endpoints()));
		}
		String allow = String.join(", ", allowed);
		return ServerResponse.status(HttpStatus.METHOD_NOT_ALLOWED).header(HttpHeaders.ALLOW, allow).bodyValue(detail(
				"Method Not Allowed: " + request.method().name() + " " + abbreviate(request.path()) + "; allowed: " + allow));
	}

	private Mono<ServerResponse> createUser(ServerRequest request) {
		return body(request).flatMap(body -> {
			// Lower-casing can lengthen a string (U+0130 becomes i and a combining dot): the limit applies after it.
			String email = text(body, "email", UserStore.EMAIL_CHARS, s -> s.toLowerCase(Locale.ROOT));
			String password = text(body, "password", MAX_PASSWORD_CHARS, UnaryOperator.identity());
			if (!EMAIL.matcher(email).matches()) {
				return Mono.error(ApiException.badRequest("email is not a valid e-mail address"));
			}
			int passwordChars = characters(password);
			if (passwordChars < MIN_PASSWORD_CHARS) {
				return Mono.error(ApiException.badRequest("password must have at least " + MIN_PASSWORD_CHARS + " characters, had " + passwordChars));
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
			String title = text(body, "title", UserStore.TITLE_CHARS, UnaryOperator.identity());
			String description = optionalText(body, "description", UserStore.DESCRIPTION_CHARS);
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

	/** A decimal integer, exactly: no spaces around it, no exponent, within {@code long}. */
	private static long number(Optional<String> value, String name, long orElse) {
		if (value.isEmpty()) {
			return orElse;
		}
		try {
			return Long.parseLong(value.get());
		}
		catch (NumberFormatException e) {
			throw ApiException.badRequest(name + " must be an integer, was '" + abbreviate(value.get()) + "'");
		}
	}

	/**
	 * The body as a JSON object: Content-Type JSON (or none), at most {@link #MAX_BODY_BYTES}, strict UTF-8
	 * (the decoders Spring offers would replace a malformed byte with U+FFFD and store that).
	 */
	private Mono<JsonNode> body(ServerRequest request) {
		return Mono.fromRunnable(() -> requireJson(request))
				.then(DataBufferUtils.join(request.body(BodyExtractors.toDataBuffers()), MAX_BODY_BYTES))
				.onErrorMap(DataBufferLimitException.class, e -> new ApiException(HttpStatus.CONTENT_TOO_LARGE,
						"Request body too large: at most " + MAX_BODY_BYTES + " bytes"))
				.map(DemoRoutes::utf8)
				.filter(text -> !text.isBlank())
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
						throw ApiException.badRequest("Expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(Locale.ROOT)));
					}
					return node;
				});
	}

	/** A 415 unless the Content-Type is absent, {@code application/json} or {@code application/*+json}, in UTF-8. */
	private static void requireJson(ServerRequest request) {
		String header = request.headers().firstHeader(HttpHeaders.CONTENT_TYPE);
		if (header == null) {
			return;
		}
		MediaType type;
		try {
			type = MediaType.parseMediaType(header);
		}
		catch (InvalidMediaTypeException e) {
			throw unsupported(header);
		}
		boolean json = type.getType().equals("application")
				&& (type.getSubtype().equals("json") || type.getSubtype().endsWith("+json"));
		if (!json) {
			throw unsupported(header);
		}
		String charset = type.getParameter("charset");
		if (charset != null && !charset.replace("\"", "").equalsIgnoreCase("utf-8")) {
			throw new ApiException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "JSON must be sent as UTF-8, was charset=" + abbreviate(charset));
		}
	}

	private static ApiException unsupported(String contentType) {
		return new ApiException(HttpStatus.UNSUPPORTED_MEDIA_TYPE,
				"Content-Type must be application/json, was '" + abbreviate(contentType) + "'");
	}

	/** Decodes strictly; a 400 naming the offset of the first byte that is not UTF-8. */
	private static String utf8(DataBuffer buffer) {
		byte[] bytes = new byte[buffer.readableByteCount()];
		try {
			buffer.read(bytes);
		}
		finally {
			DataBufferUtils.release(buffer);
		}
		CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
				.onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
		ByteBuffer in = ByteBuffer.wrap(bytes);
		CharBuffer out = CharBuffer.allocate(bytes.length);   // UTF-8 never yields more chars than bytes
		CoderResult result = decoder.decode(in, out, true);
		if (!result.isError()) {
			result = decoder.flush(out);
		}
		if (result.isError()) {
			throw ApiException.badRequest("Request body is not valid UTF-8: malformed byte sequence at byte " + in.position());
		}
		return out.flip().toString();
	}

	/** The optional string field {@code name}, null when absent or null, at most {@code max} characters. */
	private static @Nullable String optionalText(JsonNode body, String name, int max) {
		JsonNode value = body.get(name);
		return value == null || value.isNull() ? null : text(body, name, false, max, UnaryOperator.identity());
	}

	/**
	 * The required string field {@code name}, trimmed and normalised, then at most {@code max} characters
	 * (code points, as PostgreSQL counts them). NUL (which PostgreSQL cannot store in text) and unpaired
	 * surrogates (which no UTF-8 encoder can write) are a 400 rather than an error of the database or a
	 * silently replaced character.
	 */
	private static String text(JsonNode body, String name, int max, UnaryOperator<String> normalise) {
		return text(body, name, true, max, normalise);
	}

	/** The string field {@code name} as {@link #text(JsonNode, String, int, UnaryOperator)} checks it, empty allowed unless {@code required}. */
	private static String text(JsonNode body, String name, boolean required, int max, UnaryOperator<String> normalise) {
		JsonNode value = body.get(name);
		if (value == null || value.isNull()) {
			throw ApiException.badRequest(name + " is required");
		}
		if (!value.isString()) {
			throw ApiException.badRequest(name + " must be a string, was " + value.getNodeType().toString().toLowerCase(Locale.ROOT));
		}
		String raw = value.asString();
		if (raw.indexOf('\0') >= 0) {
			throw ApiException.badRequest(name + " must not contain the NUL character (U+0000), found at character "
					+ (characters(raw.substring(0, raw.indexOf('\0'))) + 1));
		}
		for (int i = 0; i < raw.length(); i++) {
			char c = raw.charAt(i);
			boolean paired = Character.isHighSurrogate(c) ? i + 1 < raw.length() && Character.isLowSurrogate(raw.charAt(++i))
					: !Character.isLowSurrogate(c);
			if (!paired) {
				throw ApiException.badRequest(String.format("%s contains an unpaired surrogate (U+%04X): not valid Unicode", name, (int) c));
			}
		}
		String text = normalise.apply(raw.trim());
		if (required && text.isEmpty()) {
			throw ApiException.badRequest(name + " must not be empty");
		}
		int length = characters(text);
		if (length > max) {
			throw ApiException.badRequest(name + " must have at most " + max + " characters, had " + length);
		}
		return text;
	}

	private static int characters(String s) {
		return s.codePointCount(0, s.length());
	}

	private static String abbreviate(String s) {
		return s.length() > 40 ? s.substring(0, 40) + "..." : s;
	}

	private static Mono<ServerResponse> error(HttpStatus status, @Nullable String detail) {
		return ServerResponse.status(status).bodyValue(detail(detail == null ? status.getReasonPhrase() : detail));
	}

	/** {@code {"detail": detail}} as JSON text, for answers written below Spring. */
	static String detailJson(String detail) {
		return JsonMapper.builder().build().writeValueAsString(detail(detail));
	}

	private static Map<String, Object> detail(String detail) {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("detail", detail);
		return body;
	}

	static List<String> endpoints() {
		return List.of("POST /users", "GET /users?skip=&limit=", "GET /users/{id}", "POST /users/{id}/items",
				"GET /items?skip=&limit=", "GET /slowusers?skip=&limit=", "GET /stats");
	}
}
