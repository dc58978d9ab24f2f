package io.tether.pool;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.tether.pool.internal.PoolEngine;
import io.tether.pool.internal.SettingValues;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A pool of R2DBC connections, itself a {@link ConnectionFactory}: {@link #create()} checks a connection
 * out, and {@code Connection.close()} gives it back. Built on reactor-pool; configured by
 * {@link PoolSettings}.
 *
 * <pre>{@code
 * TetherPool pool = TetherPool.create(ConnectionFactories.get("r2dbc:postgresql://db/app"),
 *     PoolSettings.builder().maxSize(20).acquireTimeout(Duration.ofSeconds(2)).initSql("SET search_path TO app").build());
 * // or: TetherPool.create("r2dbc:postgresql://db/app?maxSize=20&acquireTimeout=2s");
 *
 * Flux<String> names = Flux.usingWhen(pool.create(),
 *     c -> Flux.from(c.createStatement("SELECT name FROM person").execute()).flatMap(r -> r.map((row, md) -> row.get(0, String.class))),
 *     Connection::close);
 *
 * pool.close(Duration.ofSeconds(10)).block(); // at shutdown
 * }</pre>
 *
 * <p>Raw {@code create()} / {@code close()} is the advanced path: the application must close every
 * connection exactly once on every path (complete, error, cancel). Tether's {@code ConnectionScope} does
 * that for you and is the main way to use the pool.
 *
 * <h2>What the pool guarantees</h2>
 * <ul>
 *   <li><b>Init SQL once per physical connection</b>, right after it is opened; a failure of it fails the
 *       acquisition that opened it, and the connection is closed.</li>
 *   <li><b>Broken connections never return.</b> On close, a connection is destroyed instead of returned when
 *       a statement or operation on it failed with a connection-level error (an
 *       {@link io.r2dbc.spi.R2dbcNonTransientResourceException}, SQLState class {@code 08},
 *       {@code 57P01..57P03}, an I/O error), when the release cleanup failed, or when a result was still
 *       streaming: a statement or row stream that was subscribed and has not ended, or that was cancelled
 *       before its end with no later statement on the connection completing since. The release cleanup rolls
 *       back a transaction left open and restores auto-commit. Other session state (isolation level,
 *       timeouts, session variables) is not reset.</li>
 *   <li><b>Policy.</b> A connection over {@link PoolSettings#maxUses()} checkouts, older than its lifetime
 *       ({@link PoolSettings#maxLifetime()} less a random jitter), or released while
 *       {@link PoolSettings#maxIdle()} connections are idle, is closed on release; idle connections unused
 *       for {@link PoolSettings#maxIdleTime()} or past their lifetime are closed in the background or when
 *       next picked.</li>
 *   <li><b>Leak detection.</b> A checkout held longer than {@link PoolSettings#leakDetectionThreshold()}
 *       is logged once at WARN on the logger {@code io.tether.pool.TetherPool}, with the stack of the code that
 *       subscribed to {@link #create()}, and again at INFO when it comes back.</li>
 *   <li><b>Background housekeeping</b> on {@link PoolSettings#scheduler()} tops idle connections up to
 *       {@link PoolSettings#minIdle()}, checks idle connections every
 *       {@link PoolSettings#keepAliveInterval()}, and evicts expired idle ones. It runs every 30 s, or twice
 *       per {@code maxIdleTime}, {@code maxLifetime} and {@code keepAliveInterval} if shorter.</li>
 * </ul>
 *
 * <p>Instances are thread-safe. Everything the pool does in the background runs on
 * {@link PoolSettings#scheduler()}, which must accept delayed and periodic tasks.
 *
 * @since 0.1
 */
public final class TetherPool implements ConnectionFactory, AutoCloseable {

	private static final String R2DBC_POOL_PREFIX = "r2dbc:pool:";

	private final PoolEngine engine;

	private TetherPool(ConnectionFactory target, PoolSettings settings) {
		this.engine = new PoolEngine(target, settings);
	}

	/**
	 * A pool of connections of {@code target}. No connection is opened until the first acquisition,
	 * {@link #warmup()}, or the first housekeeping run (if {@link PoolSettings#minIdle()} is positive).
	 * Registers the shutdown hook if the settings ask for it.
	 */
	public static TetherPool create(ConnectionFactory target, PoolSettings settings) {
		Objects.requireNonNull(target, "target must not be null");
		Objects.requireNonNull(settings, "settings must not be null");
		return new TetherPool(target, settings);
	}

	/**
	 * A pool configured by an R2DBC URL: the pool settings are read from its query (see
	 * {@link PoolSettings#fromUrl(String)}), removed from it, and the rest goes to
	 * {@link ConnectionFactories#get(String)} to find the driver.
	 *
	 * @throws IllegalArgumentException for an {@code r2dbc:pool:} URL (that is r2dbc-pool's pool: pooling
	 *         twice would hold two connections per checkout; {@code Database.connect} takes such a URL and
	 *         uses r2dbc-pool), an invalid URL or an invalid setting
	 */
	public static TetherPool create(String r2dbcUrl) {
		Objects.requireNonNull(r2dbcUrl, "r2dbcUrl must not be null");
		if (r2dbcUrl.regionMatches(true, 0, R2DBC_POOL_PREFIX, 0, R2DBC_POOL_PREFIX.length())) {
			throw new IllegalArgumentException("TetherPool.create(url) does not take 'r2dbc:pool:' URLs (that is r2dbc-pool's own pool, "
					+ "and pooling twice would hold two connections per checkout); give the driver URL, e.g. "
					+ "r2dbc:postgresql://host/db?maxSize=20, with the pool settings in its query (Database.connect takes "
					+ "'r2dbc:pool:' URLs and uses r2dbc-pool for them): "
					+ SettingValues.mask(r2dbcUrl));
		}
		PoolSettings settings = PoolSettings.fromUrl(r2dbcUrl);
		return create(ConnectionFactories.get(withoutPoolSettings(r2dbcUrl)), settings);
	}

	/** {@code url} without the query options that are pool settings. */
	static String withoutPoolSettings(String url) {
		int q = url.indexOf('?');
		if (q < 0) {
			return url;
		}
		List<String> kept = new ArrayList<>();
		for (String pair : url.substring(q + 1).split("&")) {
			int eq = pair.indexOf('=');
			String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
			if (!pair.isEmpty() && !PoolSettings.NAMES.contains(key)) {
				kept.add(pair);
			}
		}
		return kept.isEmpty() ? url.substring(0, q) : url.substring(0, q) + "?" + String.join("&", kept);
	}

	/**
	 * Checks a connection out of the pool. Cold: each subscription is one acquisition. The connection is
	 * an idle one (validated per {@link PoolSettings#validation()}; one that fails is destroyed and the next
	 * is tried) or a new one (init SQL run). It is emitted once; {@code Connection.close()} returns it.
	 *
	 * <ul>
	 *   <li><b>Complete:</b> after emitting the connection.</li>
	 *   <li><b>Error:</b> {@link PoolAcquireTimeoutException} when none could be handed out within
	 *       {@link PoolSettings#acquireTimeout()} (or at once when it is zero and none is free);
	 *       {@link PoolPendingLimitException} when {@link PoolSettings#maxPendingAcquires()} are already
	 *       waiting; {@link PoolClosedException} when the pool is closing (also for acquisitions still waiting
	 *       when it starts to close); the driver's error when a new connection or its init SQL fails.</li>
	 *   <li><b>Cancel:</b> stops waiting; a connection that arrives anyway goes back to the pool (or is
	 *       destroyed if its validation was under way). Nothing leaks.</li>
	 * </ul>
	 */
	@Override
	public Mono<Connection> create() {
		return engine.acquire();
	}

	/** The metadata of the target factory (so that database detection sees the real driver). */
	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return engine.target().getMetadata();
	}

	/**
	 * Opens connections, one at a time, until {@link PoolSettings#minIdle()} are idle (or
	 * {@code maxSize} are open). Cold. Completes with the number opened (0 when {@code minIdle} is 0 or
	 * enough are idle); fails with the driver's error if one cannot be opened (those opened so far stay),
	 * or with {@link PoolClosedException} once the pool is closing. A cancel stops after the connection
	 * being opened, which then stays in the pool.
	 */
	public Mono<Integer> warmup() {
		return engine.warmup();
	}

	/** A snapshot of the pool's gauges and counters. */
	public PoolStats stats() {
		return engine.stats();
	}

	public PoolSettings settings() {
		return engine.settings();
	}

	/** Adds a listener of pool events; disposing the returned {@link Disposable} removes it. */
	public Disposable addListener(PoolListener listener) {
		Objects.requireNonNull(listener, "listener must not be null");
		return engine.addListener(listener);
	}

	/**
	 * Closes the pool gracefully. Cold; the first subscription starts the close, later ones (of this or
	 * another {@code close} call) wait for it to end. On subscription, new acquisitions start failing with
	 * {@link PoolClosedException}, as do the ones still waiting, and background housekeeping stops. The
	 * pool then waits up to {@code grace} for every checked-out connection to be closed by its holder (and
	 * for releases under way to finish), destroys the ones still held after that (their holders' later
	 * operations fail), and closes every idle connection.
	 *
	 * <ul>
	 *   <li><b>Complete:</b> once every connection of the pool is closed.</li>
	 *   <li><b>Error:</b> none; failures to close single connections are logged at DEBUG.</li>
	 *   <li><b>Cancel:</b> only stops the completion signal; the close goes on.</li>
	 * </ul>
	 */
	public Mono<Void> close(Duration grace) {
		Objects.requireNonNull(grace, "grace must not be null");
		if (grace.isNegative()) {
			throw new IllegalArgumentException("grace must be >= 0, was " + grace);
		}
		return engine.close(grace);
	}

	/** {@link #close(Duration) close(Duration.ZERO)}: connections still checked out are destroyed at once. */
	public Mono<Void> closeLater() {
		return close(Duration.ZERO);
	}

	/**
	 * Closes the pool like {@link #closeLater()} and waits until it is closed.
	 *
	 * @throws IllegalStateException on a non-blocking thread (such as Reactor's parallel scheduler),
	 *         where use {@link #closeLater()} or {@link #close(Duration)} instead
	 */
	@Override
	public void close() {
		if (Schedulers.isInNonBlockingThread()) {
			throw new IllegalStateException("TetherPool.close() blocks and was called on the non-blocking thread "
					+ Thread.currentThread().getName() + "; use closeLater() or close(Duration)");
		}
		try {
			closeLater().toFuture().get();
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while closing pool '" + engine.name() + "'", e);
		}
		catch (ExecutionException e) {
			throw new IllegalStateException("Closing pool '" + engine.name() + "' failed", e.getCause());
		}
	}

	/** Whether a close has started: from then on, acquisitions fail with {@link PoolClosedException}. */
	public boolean isClosed() {
		return engine.isClosed();
	}

	@Override
	public String toString() {
		return "TetherPool{" + engine.name() + ", " + stats().describeState() + "}";
	}
}
