package io.tether.examples.service;

import java.net.URI;
import java.net.URISyntaxException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientResponseException;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The concurrency experiment from the terminal: creates a few users, fires overlapping {@code GET /slowusers}
 * requests, and prints one line: requests, errors, p50/p99 latency, the connections the server used,
 * whether every response carried the same list, and, if any request failed, why, counted by kind.
 *
 * <pre>
 * mvn -q -B -pl examples -am compile exec:java@load                                   # its own in-memory server
 * mvn -q -B -pl examples -am compile exec:java@load -Dexec.args="--url=http://127.0.0.1:8000 --requests=50"
 * </pre>
 *
 * Options: {@code --url=} a running demo (default: start one in this process on in-memory H2, or on
 * {@code DATABASE_URL}, with a countdown of 10 units of 100 ms), {@code --requests=N} (default 10),
 * {@code --users=N} (default 3), {@code --timeout=SECONDS} per request (default 120).
 */
public final class LoadCommand {

	private LoadCommand() {
	}

	/** What the command was asked to do. */
	record Settings(@Nullable String url, int requests, int users, Duration timeout) {
	}

	/**
	 * What one run saw.
	 *
	 * @param causes why requests failed: a description of each kind of failure and how many requests it had,
	 *               most frequent first
	 */
	public record Summary(int requests, int errors, long p50Millis, long p99Millis, int peakConnections,
			int connectionsOpened, boolean sameList, Map<String, Long> causes) {

		public String line() {
			String line = String.format("requests=%d errors=%d p50=%dms p99=%dms connections: peak %d in use, %d opened; "
					+ "all responses the same list: %s", requests, errors, p50Millis, p99Millis, peakConnections,
					connectionsOpened, sameList ? "yes" : "NO");
			return causes.isEmpty() ? line : line + "; errors: " + causes.entrySet().stream()
					.map(e -> e.getValue() + " x " + e.getKey()).collect(Collectors.joining(", "));
		}
	}

	/** One request: how long it took, and the SHA-256 of its body, or why it failed. */
	private record Outcome(long millis, @Nullable String digest, @Nullable String cause) {
	}

	public static void main(String[] args) {
		Settings settings;
		try {
			settings = settings(args);
		}
		catch (IllegalArgumentException e) {
			System.err.println(e.getMessage());
			System.exit(2);
			return;
		}
		try {
			if (settings.url() != null) {
				System.out.println(run(settings.url(), settings.requests(), settings.users(), settings.timeout()).line());
				return;
			}
			String databaseUrl = System.getenv("DATABASE_URL");
			DemoConfig config = DemoConfig.forTest(databaseUrl != null && !databaseUrl.isBlank() ? databaseUrl
					: DemoConfig.inMemoryH2("tether_load_" + UUID.randomUUID().toString().substring(0, 8)), 10, Duration.ofMillis(100));
			try (DemoServer server = DemoServer.start(config)) {
				System.out.println(run(server.url(), settings.requests(), settings.users(), settings.timeout()).line());
			}
		}
		catch (RuntimeException e) {
			System.err.println(e.getMessage());
			System.exit(1);
		}
	}

	/**
	 * Reads the options the class documentation lists.
	 *
	 * @throws IllegalArgumentException naming an unknown or malformed option and what it expects
	 */
	static Settings settings(String[] args) {
		Options options = Options.parse(args, List.of(), List.of("--url=http://host:port", "--requests=N", "--users=N", "--timeout=SECONDS"));
		String url = options.string("--url").orElse(null);
		if (url != null && !isHttpUrl(url)) {
			throw new IllegalArgumentException("--url must be the http:// URL of a running demo (http://host:port), was '" + url + "'");
		}
		return new Settings(url, options.integer("--requests", 1, 100_000, 10), options.integer("--users", 1, 10_000, 3),
				Duration.ofSeconds(options.integer("--timeout", 1, 86_400, 120)));
	}

	private static boolean isHttpUrl(String url) {
		try {
			URI uri = new URI(url);
			return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null;
		}
		catch (URISyntaxException e) {
			return false;
		}
	}

	/** {@link #run(String, int, int, Duration)} with a timeout of two minutes per request. */
	public static Summary run(String baseUrl, int requests, int users) {
		return run(baseUrl, requests, users, Duration.ofMinutes(2));
	}

	/**
	 * Creates {@code users} users on {@code baseUrl}, then fires {@code requests} overlapping {@code /slowusers},
	 * each failing if it takes longer than {@code timeout} (creating users and reading {@code /stats} may take
	 * up to a minute). Responses are compared by digest as they stream
	 * in, so their size is not limited.
	 *
	 * @throws IllegalStateException if a user cannot be created, saying why
	 */
	public static Summary run(String baseUrl, int requests, int users, Duration timeout) {
		WebClient client = WebClient.create(baseUrl);
		// the timeout is for /slowusers; creating users (PBKDF2 on the server) may take longer
		Duration setupTimeout = timeout.compareTo(Duration.ofMinutes(1)) > 0 ? timeout : Duration.ofMinutes(1);
		String run = UUID.randomUUID().toString().substring(0, 8);
		Flux.range(1, users)
				.concatMap(i -> {
					String email = "load-" + run + "-" + i + "@example.com";
					return client.post().uri("/users").bodyValue(Map.of("email", email, "password", "correct horse " + i))
							.retrieve().toBodilessEntity().timeout(setupTimeout)
							.onErrorMap(e -> new IllegalStateException("Could not create user " + email + " on " + baseUrl + ": " + cause(e, setupTimeout), e));
				})
				.blockLast();

		List<Outcome> outcomes = Flux.range(0, requests)
				.flatMap(i -> Mono.defer(() -> {
					long start = System.nanoTime();
					return client.get().uri("/slowusers").retrieve().bodyToFlux(DataBuffer.class)
							.reduce(sha256(), (digest, buffer) -> {
								try (DataBuffer.ByteBufferIterator chunks = buffer.readableByteBuffers()) {
									chunks.forEachRemaining(digest::update);
								}
								finally {
									DataBufferUtils.release(buffer);
								}
								return digest;
							})
							.timeout(timeout)
							.map(digest -> new Outcome(elapsed(start), HexFormat.of().formatHex(digest.digest()), null))
							.onErrorResume(e -> Mono.just(new Outcome(elapsed(start), null, cause(e, timeout))));
				}), requests)
				.collectList()
				.block();
		Map<String, Object> stats = client.get().uri("/stats").retrieve()
				.bodyToMono(new ParameterizedTypeReference<Map<String, Object>>() {
				}).timeout(setupTimeout).onErrorResume(e -> Mono.empty()).block();

		List<Long> latencies = new ArrayList<>();
		outcomes.forEach(o -> latencies.add(o.millis()));
		Collections.sort(latencies);
		Map<String, Long> causes = outcomes.stream().filter(o -> o.cause() != null)
				.collect(Collectors.groupingBy(Outcome::cause, Collectors.counting()));
		Map<String, Long> byCount = new LinkedHashMap<>();
		causes.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
				.forEach(e -> byCount.put(e.getKey(), e.getValue()));
		long errors = outcomes.stream().filter(o -> o.digest() == null).count();
		boolean same = errors == 0 && outcomes.stream().map(Outcome::digest).distinct().count() == 1;
		return new Summary(requests, (int) errors, percentile(latencies, 50), percentile(latencies, 99),
				number(stats, "peak_connections_in_use"), number(stats, "connections_opened"), same, byCount);
	}

	/** Why a request failed, in words that are the same for every request that failed the same way. */
	static String cause(Throwable e, Duration timeout) {
		Throwable t = Exceptions.unwrap(e);
		if (t instanceof WebClientResponseException r) {
			String body = r.getResponseBodyAsString();
			return "HTTP " + r.getStatusCode().value() + (r.getStatusText().isEmpty() ? "" : " " + r.getStatusText())
					+ (body.isBlank() ? "" : " " + abbreviate(body.strip()));
		}
		if (t instanceof java.util.concurrent.TimeoutException) {
			return "no response within " + timeout.toMillis() + "ms";
		}
		Function<Throwable, String> describe = x -> x.getClass().getSimpleName() + (x.getMessage() == null ? "" : ": " + abbreviate(x.getMessage()));
		Throwable root = t;
		while (root.getCause() != null && root.getCause() != root) {
			root = root.getCause();
		}
		return root == t ? describe.apply(t) : describe.apply(t) + " (" + describe.apply(root) + ")";
	}

	private static String abbreviate(String s) {
		return s.length() > 160 ? s.substring(0, 160) + "..." : s;
	}

	private static MessageDigest sha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("SHA-256 is not available in this JDK", e);
		}
	}

	private static long elapsed(long start) {
		return Duration.ofNanos(System.nanoTime() - start).toMillis();
	}

	/** Nearest-rank percentile of sorted values. */
	static long percentile(List<Long> sorted, int p) {
		if (sorted.isEmpty()) {
			return 0;
		}
		int rank = (int) Math.ceil(p / 100.0 * sorted.size());
		return sorted.get(Math.max(0, rank - 1));
	}

	private static int number(@Nullable Map<String, Object> stats, String key) {
		Object value = stats == null ? null : stats.get(key);
		return value instanceof Number n ? n.intValue() : -1;
	}
}
