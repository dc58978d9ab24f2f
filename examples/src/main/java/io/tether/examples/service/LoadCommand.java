package io.tether.examples.service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The concurrency experiment from the terminal: creates a few users, fires overlapping {@code GET /slowusers}
 * requests, and prints one line: requests, errors, p50/p99 latency, the connections the server used, and
 * whether every response carried the same list.
 *
 * <pre>
 * mvn -q -B -pl examples -am compile exec:java@load                                   # its own in-memory server
 * mvn -q -B -pl examples -am compile exec:java@load -Dexec.args="--url=http://127.0.0.1:8000 --requests=50"
 * </pre>
 *
 * Options: {@code --url=} a running demo (default: start one in this process on in-memory H2, or on
 * {@code DATABASE_URL}, with a countdown of 10 units of 100 ms), {@code --requests=N} (default 10),
 * {@code --users=N} (default 3).
 */
public final class LoadCommand {

	private static final ParameterizedTypeReference<List<Map<String, Object>>> USERS = new ParameterizedTypeReference<>() {
	};

	private LoadCommand() {
	}

	/** What one run saw. */
	public record Summary(int requests, int errors, long p50Millis, long p99Millis, int peakConnections,
			int connectionsOpened, boolean sameList) {

		public String line() {
			return String.format("requests=%d errors=%d p50=%dms p99=%dms connections: peak %d in use, %d opened; "
					+ "all responses the same list: %s", requests, errors, p50Millis, p99Millis, peakConnections,
					connectionsOpened, sameList ? "yes" : "NO");
		}
	}

	private record Outcome(long millis, @Nullable List<Map<String, Object>> users) {
	}

	public static void main(String[] args) {
		String url = null;
		int requests = 10;
		int users = 3;
		for (String arg : args) {
			String value = arg.substring(arg.indexOf('=') + 1);
			if (arg.startsWith("--url=")) {
				url = value;
			}
			else if (arg.startsWith("--requests=")) {
				requests = Integer.parseInt(value);
			}
			else if (arg.startsWith("--users=")) {
				users = Integer.parseInt(value);
			}
			else {
				System.err.println("Unknown argument '" + arg + "'; known: --url=http://host:port, --requests=N, --users=N");
				System.exit(2);
			}
		}
		if (url != null) {
			System.out.println(run(url, requests, users).line());
			return;
		}
		String databaseUrl = System.getenv("DATABASE_URL");
		DemoConfig config = DemoConfig.forTest(databaseUrl != null && !databaseUrl.isBlank() ? databaseUrl
				: DemoConfig.inMemoryH2("tether_load_" + UUID.randomUUID().toString().substring(0, 8)), 10, Duration.ofMillis(100));
		try (DemoServer server = DemoServer.start(config)) {
			System.out.println(run(server.url(), requests, users).line());
		}
	}

	/** Creates {@code users} users on {@code baseUrl}, then fires {@code requests} overlapping {@code /slowusers}. */
	public static Summary run(String baseUrl, int requests, int users) {
		WebClient client = WebClient.create(baseUrl);
		String run = UUID.randomUUID().toString().substring(0, 8);
		Flux.range(1, users)
				.concatMap(i -> client.post().uri("/users")
						.bodyValue(Map.of("email", "load-" + run + "-" + i + "@example.com", "password", "correct horse " + i))
						.retrieve().toBodilessEntity())
				.blockLast(Duration.ofMinutes(1));

		List<Outcome> outcomes = Flux.range(0, requests)
				.flatMap(i -> Mono.defer(() -> {
					long start = System.nanoTime();
					return client.get().uri("/slowusers").retrieve().bodyToMono(USERS)
							.map(body -> new Outcome(elapsed(start), body))
							.onErrorResume(e -> Mono.just(new Outcome(elapsed(start), null)));
				}), requests)
				.collectList()
				.block(Duration.ofMinutes(5));
		Map<String, Object> stats = client.get().uri("/stats").retrieve()
				.bodyToMono(new ParameterizedTypeReference<Map<String, Object>>() {
				}).block(Duration.ofSeconds(30));

		List<Long> latencies = new ArrayList<>();
		outcomes.forEach(o -> latencies.add(o.millis()));
		Collections.sort(latencies);
		long errors = outcomes.stream().filter(o -> o.users() == null).count();
		boolean same = errors == 0 && outcomes.stream().map(Outcome::users).distinct().count() == 1;
		return new Summary(requests, (int) errors, percentile(latencies, 50), percentile(latencies, 99),
				number(stats, "peak_connections_in_use"), number(stats, "connections_opened"), same);
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
