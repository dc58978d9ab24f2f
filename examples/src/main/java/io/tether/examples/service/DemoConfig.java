package io.tether.examples.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How the demo runs. From the command line ({@link #from(String[], Map)}):
 * <ul>
 *   <li>{@code DATABASE_URL} (environment): an R2DBC URL, e.g. {@code r2dbc:postgresql://postgres@127.0.0.1:5432/test};
 *       pool settings may be added as URL options ({@code ?maxSize=20}).</li>
 *   <li>otherwise embedded H2: a file under {@code ./data} ({@code --data-dir=DIR} to move it), or in memory
 *       with {@code --in-memory}.</li>
 *   <li>{@code --port=N} (or {@code PORT}; default 8000, 0 = any free port), {@code --host=ADDR} (default 127.0.0.1).</li>
 *   <li>{@code --slow-start=N} (default 10): how many units the first {@code /slowusers} waits, one fewer each
 *       later call; {@code --slow-unit=MILLIS} (default 1000).</li>
 * </ul>
 *
 * @param databaseUrl        the R2DBC URL of the database (pool options allowed)
 * @param host               the address to listen on
 * @param port               the port, 0 for any free one
 * @param slowStart          the countdown of {@code /slowusers}: units the first call waits
 * @param slowUnit           one unit of that countdown
 * @param passwordIterations PBKDF2 iterations per password hash
 * @param shutdownGrace      how long a shutdown waits for requests in flight
 */
public record DemoConfig(String databaseUrl, String host, int port, int slowStart, Duration slowUnit,
		int passwordIterations, Duration shutdownGrace) {

	public DemoConfig {
		Objects.requireNonNull(databaseUrl, "databaseUrl must not be null");
		Objects.requireNonNull(host, "host must not be null");
		if (port < 0 || port > 65535) {
			throw new IllegalArgumentException("port must be in 0..65535, was " + port);
		}
		if (slowStart < 0) {
			throw new IllegalArgumentException("slowStart must be >= 0, was " + slowStart);
		}
	}

	/** In-memory H2 of its own, any free port, the countdown of {@code slowStart} units of {@code slowUnit}: for tests. */
	public static DemoConfig forTest(String databaseUrl, int slowStart, Duration slowUnit) {
		return new DemoConfig(databaseUrl, "127.0.0.1", 0, slowStart, slowUnit, 1_000, Duration.ofSeconds(5));
	}

	/** An in-memory H2 URL of its own (the database lives as long as the process; closed by the demo, not by H2's exit hook). */
	public static String inMemoryH2(String name) {
		return "r2dbc:h2:mem:///" + name + "?options=DB_CLOSE_DELAY=-1;DB_CLOSE_ON_EXIT=FALSE&maxSize=20";
	}

	/**
	 * Reads {@code args} and {@code env} as the class documentation describes.
	 *
	 * @throws IllegalArgumentException for an unknown or malformed argument (or {@code PORT}), naming it and
	 *                                  what it expects
	 */
	public static DemoConfig from(String[] args, Map<String, String> env) {
		Options options = Options.parse(args, List.of("--in-memory"),
				List.of("--data-dir=DIR", "--host=ADDR", "--port=N", "--slow-start=N", "--slow-unit=MILLIS"));
		String envPort = env.get("PORT");
		int port = envPort == null ? 8000 : Options.integer("PORT (environment)", envPort, 0, 65535);
		port = options.integer("--port", 0, 65535, port);
		int slowStart = options.integer("--slow-start", 0, Integer.MAX_VALUE, 10);
		int slowUnitMillis = options.integer("--slow-unit", 0, 3_600_000, 1000);
		String url = env.get("DATABASE_URL");
		if (url == null || url.isBlank()) {
			url = options.flag("--in-memory") ? inMemoryH2("tether_demo") : fileH2(Path.of(options.string("--data-dir").orElse("data")));
		}
		return new DemoConfig(url, options.string("--host").orElse("127.0.0.1"), port, slowStart, Duration.ofMillis(slowUnitMillis),
				Passwords.DEFAULT_ITERATIONS, Duration.ofSeconds(30));
	}

	/** An H2 database in {@code dir/tether-demo.mv.db}, created on first use. */
	static String fileH2(Path dir) {
		// r2dbc-h2 drops the slash that ends "file://", and H2 refuses paths implicitly relative to the
		// working directory: "./x" stays relative, "/x" is kept absolute by doubling the slash.
		String path = dir.resolve("tether-demo").normalize().toString().replace('\\', '/');
		String h2Path = dir.isAbsolute() ? "/" + path : "./" + path;
		// DB_CLOSE_ON_EXIT=FALSE: H2's own shutdown hook would close the database under requests still
		// finishing during a graceful shutdown; the demo closes the pool itself.
		return "r2dbc:h2:file:///" + h2Path + "?options=DB_CLOSE_ON_EXIT=FALSE&maxSize=20";
	}

	/** The URL with any password masked, for printing. */
	public String describeDatabase() {
		return databaseUrl.replaceAll("(//[^:/@]+:)[^@]*@", "$1****@");
	}
}
