package io.tether.pool;

import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;
import io.tether.pool.internal.SettingValues;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Immutable settings of a {@link TetherPool}. Build them with {@link #builder()}, or read them from an
 * R2DBC URL ({@link #fromUrl(String)}), from {@link ConnectionFactoryOptions} ({@link #fromOptions}) or
 * from a {@code Map} of properties ({@link #fromMap(Map)}); all three use the same setting names.
 *
 * <pre>{@code
 * PoolSettings settings = PoolSettings.builder()
 *     .maxSize(20)
 *     .minIdle(2)
 *     .acquireTimeout(Duration.ofSeconds(2))
 *     .initSql("SET search_path TO app")
 *     .maxUses(10_000)
 *     .leakDetectionThreshold(Duration.ofSeconds(30))
 *     .build();
 * }</pre>
 *
 * <table>
 *   <caption>Settings, their defaults and rules</caption>
 *   <tr><th>name</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code name}</td><td>{@code tether}</td><td>in logs, metric tags and exception messages</td></tr>
 *   <tr><td>{@code maxSize}</td><td>10</td><td>most physical connections open at once; {@code >= 1}</td></tr>
 *   <tr><td>{@code minIdle}</td><td>0</td><td>idle connections kept ready, topped up in the background;
 *       {@code 0..maxSize}</td></tr>
 *   <tr><td>{@code maxIdle}</td><td>{@code maxSize}</td><td>idle connections above it are closed on release;
 *       {@code minIdle..maxSize}</td></tr>
 *   <tr><td>{@code maxIdleTime}</td><td>30 min</td><td>an idle connection unused this long is closed;
 *       {@code ZERO} = never</td></tr>
 *   <tr><td>{@code maxLifetime}</td><td>30 min</td><td>a connection this old is closed once idle;
 *       {@code ZERO} = unlimited</td></tr>
 *   <tr><td>{@code maxLifetimeJitter}</td><td>{@code maxLifetime / 10}, at most 1 min</td><td>each connection's
 *       lifetime is shortened by a random amount up to this, so connections do not all expire together;
 *       {@code < maxLifetime}</td></tr>
 *   <tr><td>{@code acquireTimeout}</td><td>30 s</td><td>longest wait for a connection; {@code ZERO} = fail fast;
 *       {@code "unlimited"} in text, {@link Builder#acquireTimeoutUnlimited()} in code = wait forever</td></tr>
 *   <tr><td>{@code maxPendingAcquires}</td><td>unbounded</td><td>acquisitions allowed to wait; above it they
 *       fail at once with {@link PoolPendingLimitException}</td></tr>
 *   <tr><td>{@code maxUses}</td><td>0 = unlimited</td><td>a physical connection is closed after this many
 *       checkouts</td></tr>
 *   <tr><td>{@code initSql}</td><td>none</td><td>statements run once per physical connection, right after it
 *       is opened ({@code ;}-separated in text)</td></tr>
 *   <tr><td>{@code validation}</td><td>{@link ValidationMode#ON_ACQUIRE_IF_IDLE}</td><td>when connections are
 *       checked before they are handed out</td></tr>
 *   <tr><td>{@code validationIdleThreshold}</td><td>5 s</td><td>for {@code ON_ACQUIRE_IF_IDLE}: idle time after
 *       which the check is remote</td></tr>
 *   <tr><td>{@code validationQuery}</td><td>none = {@code validate(REMOTE)}</td><td>SQL of the remote check</td></tr>
 *   <tr><td>{@code keepAliveInterval}</td><td>{@code ZERO} = off</td><td>idle connections get a remote check this
 *       often; {@code < maxLifetime}</td></tr>
 *   <tr><td>{@code leakDetectionThreshold}</td><td>{@code ZERO} = off</td><td>a connection held longer is
 *       reported once at WARN</td></tr>
 *   <tr><td>{@code cleanupTimeout}</td><td>10 s</td><td>longest a release's cleanup (rollback of a transaction
 *       left open, restore of auto-commit) may take; a cleanup that does not finish destroys the connection</td></tr>
 *   <tr><td>{@code registerShutdownHook}</td><td>false</td><td>close the pool at JVM exit</td></tr>
 * </table>
 *
 * <p>Durations in text accept ISO-8601 ({@code PT2S}), a unit ({@code 2000ms}, {@code 2s}, {@code 5m},
 * {@code 1h}, {@code 1d}) or plain milliseconds. Range errors name the setting and the value seen, like
 * {@code "maxSize must be >= 1, was 0"}; rules between settings are checked by {@link Builder#build()}.
 * {@link #clock()} and {@link #scheduler()} are for tests (virtual time) and cannot be given as text.
 *
 * @since 0.1
 */
public final class PoolSettings {

	/** Prefix that keys of {@link #fromMap(Map)} may carry, e.g. {@code tether.pool.maxSize}. */
	public static final String PREFIX = "tether.pool.";

	/** The names of every setting, as used in URLs, options and maps. */
	public static final List<String> NAMES = List.of("name", "maxSize", "minIdle", "maxIdle", "maxIdleTime",
			"maxLifetime", "maxLifetimeJitter", "acquireTimeout", "maxPendingAcquires", "maxUses", "initSql",
			"validation", "validationIdleThreshold", "validationQuery", "keepAliveInterval",
			"leakDetectionThreshold", "cleanupTimeout", "registerShutdownHook");

	private static final Duration UNLIMITED = ChronoUnit.FOREVER.getDuration();

	private final String name;
	private final int maxSize;
	private final int minIdle;
	private final int maxIdle;
	private final Duration maxIdleTime;
	private final Duration maxLifetime;
	private final Duration maxLifetimeJitter;
	private final Duration acquireTimeout;
	private final boolean acquireTimeoutUnlimited;
	private final int maxPendingAcquires;
	private final long maxUses;
	private final List<String> initSql;
	private final ValidationMode validation;
	private final Duration validationIdleThreshold;
	private final @Nullable String validationQuery;
	private final Duration keepAliveInterval;
	private final Duration leakDetectionThreshold;
	private final Duration cleanupTimeout;
	private final boolean registerShutdownHook;
	private final Clock clock;
	private final Scheduler scheduler;
	// As given to the builder (null = derived), so that toBuilder() keeps deriving them.
	private final @Nullable Integer maxIdleSetting;
	private final @Nullable Duration jitterSetting;

	private PoolSettings(Builder b, int maxIdle, Duration jitter) {
		this.name = b.name;
		this.maxSize = b.maxSize;
		this.minIdle = b.minIdle;
		this.maxIdle = maxIdle;
		this.maxIdleTime = b.maxIdleTime;
		this.maxLifetime = b.maxLifetime;
		this.maxLifetimeJitter = jitter;
		this.acquireTimeout = b.acquireTimeoutUnlimited ? UNLIMITED : b.acquireTimeout;
		this.acquireTimeoutUnlimited = b.acquireTimeoutUnlimited;
		this.maxPendingAcquires = b.maxPendingAcquires;
		this.maxUses = b.maxUses;
		this.initSql = List.copyOf(b.initSql);
		this.validation = b.validation;
		this.validationIdleThreshold = b.validationIdleThreshold;
		this.validationQuery = b.validationQuery;
		this.keepAliveInterval = b.keepAliveInterval;
		this.leakDetectionThreshold = b.leakDetectionThreshold;
		this.cleanupTimeout = b.cleanupTimeout;
		this.registerShutdownHook = b.registerShutdownHook;
		this.clock = b.clock;
		this.scheduler = b.scheduler;
		this.maxIdleSetting = b.maxIdle;
		this.jitterSetting = b.maxLifetimeJitter;
	}

	/** A builder with every setting at its default. */
	public static Builder builder() {
		return new Builder();
	}

	/** The defaults. */
	public static PoolSettings defaults() {
		return builder().build();
	}

	/**
	 * Reads the pool settings from the query of an R2DBC URL, e.g.
	 * {@code r2dbc:postgresql://db/app?maxSize=20&acquireTimeout=2s&initSql=SET%20search_path%20TO%20app}.
	 * Other query options (the driver's) are ignored; settings not in the URL keep their defaults. An option
	 * that is not a setting but close to one (the same name in other case, a typing mistake, or another pool's
	 * name for it: {@code maxsize}, {@code maxSise}, {@code poolSize}, {@code maximumPoolSize}) is refused
	 * rather than passed to the driver, which would ignore it silently.
	 *
	 * @throws IllegalArgumentException if the URL cannot be parsed (the message masks the password, see
	 *         {@link R2dbcUrls#parse}), an option looks like a misspelt setting, or a value is invalid
	 */
	public static PoolSettings fromUrl(String r2dbcUrl) {
		ConnectionFactoryOptions options = R2dbcUrls.parse(r2dbcUrl);
		int q = r2dbcUrl.indexOf('?');
		if (q >= 0) {
			for (String pair : r2dbcUrl.substring(q + 1).split("&")) {
				int eq = pair.indexOf('=');
				String key = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8);
				String meant = NAMES.contains(key) ? null : SettingValues.closeSetting(key, NAMES);
				if (meant != null) {
					throw new IllegalArgumentException("unknown pool option '" + key + "' — did you mean '" + meant
							+ "'? (Tether's pool options are case-sensitive; options that are not close to one of them go to"
							+ " the driver): " + R2dbcUrls.mask(r2dbcUrl));
				}
			}
		}
		return fromOptions(options);
	}

	/**
	 * Reads the pool settings from R2DBC options with the names of {@link #NAMES}; values may be text,
	 * numbers, {@link Duration}s, booleans or (for {@code validation}) a {@link ValidationMode}. Other
	 * options are ignored.
	 *
	 * @throws IllegalArgumentException if a value is invalid
	 */
	public static PoolSettings fromOptions(ConnectionFactoryOptions options) {
		Objects.requireNonNull(options, "options must not be null");
		Builder b = builder();
		for (String name : NAMES) {
			Option<Object> option = Option.valueOf(name);
			if (options.hasOption(option)) {
				Object value = options.getValue(option);
				if (value != null) {
					b.set(name, value);
				}
			}
		}
		return b.build();
	}

	/**
	 * Reads the pool settings from properties. Keys are the names of {@link #NAMES}, optionally prefixed
	 * with {@value #PREFIX}; values are text, numbers, {@link Duration}s, booleans, a
	 * {@link ValidationMode}, or for {@code initSql} a list of statements.
	 *
	 * @throws IllegalArgumentException for an unknown key (naming it and the known keys), a null value or
	 *         an invalid value
	 */
	public static PoolSettings fromMap(Map<String, ?> properties) {
		Objects.requireNonNull(properties, "properties must not be null");
		Builder b = builder();
		for (Map.Entry<String, ?> e : properties.entrySet()) {
			String key = e.getKey();
			String name = key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : key;
			if (!NAMES.contains(name)) {
				String meant = SettingValues.closeSetting(name, NAMES);
				throw new IllegalArgumentException("Unknown pool setting '" + key + "'"
						+ (meant != null ? " — did you mean '" + meant + "'?" : "") + "; known settings (optionally prefixed with '"
						+ PREFIX + "'): " + String.join(", ", NAMES));
			}
			Object value = e.getValue();
			if (value == null) {
				throw new IllegalArgumentException("Pool setting '" + key + "' has a null value");
			}
			b.set(name, value);
		}
		return b.build();
	}

	/** A builder that starts from these settings. */
	public Builder toBuilder() {
		Builder b = new Builder();
		b.name = name;
		b.maxSize = maxSize;
		b.minIdle = minIdle;
		b.maxIdle = maxIdleSetting;
		b.maxIdleTime = maxIdleTime;
		b.maxLifetime = maxLifetime;
		b.maxLifetimeJitter = jitterSetting;
		b.acquireTimeout = acquireTimeoutUnlimited ? Duration.ofSeconds(30) : acquireTimeout;
		b.acquireTimeoutUnlimited = acquireTimeoutUnlimited;
		b.maxPendingAcquires = maxPendingAcquires;
		b.maxUses = maxUses;
		b.initSql = new ArrayList<>(initSql);
		b.validation = validation;
		b.validationIdleThreshold = validationIdleThreshold;
		b.validationQuery = validationQuery;
		b.keepAliveInterval = keepAliveInterval;
		b.leakDetectionThreshold = leakDetectionThreshold;
		b.cleanupTimeout = cleanupTimeout;
		b.registerShutdownHook = registerShutdownHook;
		b.clock = clock;
		b.scheduler = scheduler;
		return b;
	}

	/** Name of the pool in logs, metric tags and messages. Default {@code "tether"}. */
	public String name() {
		return name;
	}

	/** Most physical connections open at once. Default 10. */
	public int maxSize() {
		return maxSize;
	}

	/** Idle connections kept ready; topped up in the background and by {@link TetherPool#warmup()}. Default 0. */
	public int minIdle() {
		return minIdle;
	}

	/** Cap on idle connections: a connection released while this many are idle is closed. Default {@link #maxSize()}. */
	public int maxIdle() {
		return maxIdle;
	}

	/** Idle connections unused for this long are closed; {@link Duration#ZERO} = never. Default 30 minutes. */
	public Duration maxIdleTime() {
		return maxIdleTime;
	}

	/** Connections older than this (less their jitter) are closed when idle; {@link Duration#ZERO} = unlimited. Default 30 minutes. */
	public Duration maxLifetime() {
		return maxLifetime;
	}

	/** Upper bound of the random amount by which each connection's lifetime is shortened. Default {@code maxLifetime / 10}, at most 1 minute. */
	public Duration maxLifetimeJitter() {
		return maxLifetimeJitter;
	}

	/**
	 * Longest wait for a connection, from subscription to {@link TetherPool#create()} until a connection is
	 * handed out (waiting, opening and validating included). {@link Duration#ZERO} = fail fast when no
	 * connection is free and none can be opened now. When {@link #acquireTimeoutUnlimited()}, this returns
	 * {@link ChronoUnit#FOREVER}'s duration. Default 30 seconds.
	 */
	public Duration acquireTimeout() {
		return acquireTimeout;
	}

	/** Whether acquisitions wait without limit (set only by {@link Builder#acquireTimeoutUnlimited()} or the text {@code "unlimited"}). */
	public boolean acquireTimeoutUnlimited() {
		return acquireTimeoutUnlimited;
	}

	/** Acquisitions allowed to wait at once; {@link Integer#MAX_VALUE} = unbounded (the default). */
	public int maxPendingAcquires() {
		return maxPendingAcquires;
	}

	/** Checkouts after which a physical connection is closed instead of returned; 0 = unlimited (the default). */
	public long maxUses() {
		return maxUses;
	}

	/** Statements run once per physical connection, right after it is opened. Default none. */
	public List<String> initSql() {
		return initSql;
	}

	/** When connections are checked before they are handed out. Default {@link ValidationMode#ON_ACQUIRE_IF_IDLE}. */
	public ValidationMode validation() {
		return validation;
	}

	/** For {@link ValidationMode#ON_ACQUIRE_IF_IDLE}: idle time after which the check is remote. Default 5 seconds. */
	public Duration validationIdleThreshold() {
		return validationIdleThreshold;
	}

	/** SQL of remote checks; {@code null} (the default) uses {@link io.r2dbc.spi.ValidationDepth#REMOTE} validation. */
	public @Nullable String validationQuery() {
		return validationQuery;
	}

	/** Idle connections get a remote check this often; {@link Duration#ZERO} (the default) = off. */
	public Duration keepAliveInterval() {
		return keepAliveInterval;
	}

	/** A connection held longer than this is reported at WARN; {@link Duration#ZERO} (the default) = off. */
	public Duration leakDetectionThreshold() {
		return leakDetectionThreshold;
	}

	/**
	 * Longest time the cleanup of a release (rollback of a transaction left open, restore of auto-commit) may
	 * take; a cleanup that does not finish in time destroys the physical connection. Default 10 s.
	 */
	public Duration cleanupTimeout() {
		return cleanupTimeout;
	}

	/** Whether the pool closes itself at JVM exit. Default false. */
	public boolean registerShutdownHook() {
		return registerShutdownHook;
	}

	/** Source of timestamps (lifetimes, idle times, hold times). Default {@link Clock#systemUTC()}. */
	public Clock clock() {
		return clock;
	}

	/** Runs timers: acquire timeouts, leak detection and background housekeeping. Default {@link Schedulers#parallel()}. */
	public Scheduler scheduler() {
		return scheduler;
	}

	@Override
	public boolean equals(@Nullable Object o) {
		if (this == o) {
			return true;
		}
		if (!(o instanceof PoolSettings)) {
			return false;
		}
		PoolSettings that = (PoolSettings) o;
		return maxSize == that.maxSize && minIdle == that.minIdle && maxIdle == that.maxIdle
				&& acquireTimeoutUnlimited == that.acquireTimeoutUnlimited
				&& maxPendingAcquires == that.maxPendingAcquires && maxUses == that.maxUses
				&& registerShutdownHook == that.registerShutdownHook && name.equals(that.name)
				&& maxIdleTime.equals(that.maxIdleTime) && maxLifetime.equals(that.maxLifetime)
				&& maxLifetimeJitter.equals(that.maxLifetimeJitter) && acquireTimeout.equals(that.acquireTimeout)
				&& initSql.equals(that.initSql) && validation == that.validation
				&& validationIdleThreshold.equals(that.validationIdleThreshold)
				&& Objects.equals(validationQuery, that.validationQuery)
				&& keepAliveInterval.equals(that.keepAliveInterval)
				&& leakDetectionThreshold.equals(that.leakDetectionThreshold) && cleanupTimeout.equals(that.cleanupTimeout)
				&& clock.equals(that.clock)
				&& scheduler.equals(that.scheduler);
	}

	@Override
	public int hashCode() {
		return Objects.hash(name, maxSize, minIdle, maxIdle, maxIdleTime, maxLifetime, maxLifetimeJitter,
				acquireTimeout, maxPendingAcquires, maxUses, initSql, validation, validationQuery, keepAliveInterval,
				leakDetectionThreshold, cleanupTimeout);
	}

	/** All settings; anything that looks like a password (in init SQL, the validation query or the name) is masked. */
	@Override
	public String toString() {
		List<String> maskedInit = new ArrayList<>();
		for (String sql : initSql) {
			maskedInit.add(SettingValues.mask(sql));
		}
		return "PoolSettings{name=" + SettingValues.mask(name) + ", maxSize=" + maxSize + ", minIdle=" + minIdle
				+ ", maxIdle=" + maxIdle + ", maxIdleTime=" + maxIdleTime + ", maxLifetime=" + maxLifetime
				+ ", maxLifetimeJitter=" + maxLifetimeJitter + ", acquireTimeout="
				+ (acquireTimeoutUnlimited ? "unlimited" : acquireTimeout.toString()) + ", maxPendingAcquires="
				+ (maxPendingAcquires == Integer.MAX_VALUE ? "unbounded" : String.valueOf(maxPendingAcquires))
				+ ", maxUses=" + maxUses + ", initSql=" + maskedInit + ", validation=" + validation
				+ ", validationIdleThreshold=" + validationIdleThreshold + ", validationQuery="
				+ (validationQuery == null ? null : SettingValues.mask(validationQuery)) + ", keepAliveInterval="
				+ keepAliveInterval + ", leakDetectionThreshold=" + leakDetectionThreshold + ", cleanupTimeout="
				+ cleanupTimeout + ", registerShutdownHook="
				+ registerShutdownHook + "}";
	}

	/**
	 * Mutable builder of {@link PoolSettings}. Setters check their own range and throw
	 * {@link IllegalArgumentException} naming the value seen; {@link #build()} checks the rules between
	 * settings. Not thread-safe.
	 *
	 * @since 0.1
	 */
	public static final class Builder {

		private String name = "tether";
		private int maxSize = 10;
		private int minIdle = 0;
		private @Nullable Integer maxIdle;
		private Duration maxIdleTime = Duration.ofMinutes(30);
		private Duration maxLifetime = Duration.ofMinutes(30);
		private @Nullable Duration maxLifetimeJitter;
		private Duration acquireTimeout = Duration.ofSeconds(30);
		private boolean acquireTimeoutUnlimited;
		private int maxPendingAcquires = Integer.MAX_VALUE;
		private long maxUses;
		private List<String> initSql = new ArrayList<>();
		private ValidationMode validation = ValidationMode.ON_ACQUIRE_IF_IDLE;
		private Duration validationIdleThreshold = Duration.ofSeconds(5);
		private @Nullable String validationQuery;
		private Duration keepAliveInterval = Duration.ZERO;
		private Duration cleanupTimeout = Duration.ofSeconds(10);
		private Duration leakDetectionThreshold = Duration.ZERO;
		private boolean registerShutdownHook;
		private Clock clock = Clock.systemUTC();
		private Scheduler scheduler = Schedulers.parallel();

		private Builder() {
		}

		public Builder name(String name) {
			Objects.requireNonNull(name, "name must not be null");
			if (name.isBlank()) {
				throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
			}
			this.name = name;
			return this;
		}

		public Builder maxSize(int maxSize) {
			if (maxSize < 1) {
				throw new IllegalArgumentException("maxSize must be >= 1, was " + maxSize);
			}
			this.maxSize = maxSize;
			return this;
		}

		public Builder minIdle(int minIdle) {
			if (minIdle < 0) {
				throw new IllegalArgumentException("minIdle must be >= 0, was " + minIdle);
			}
			this.minIdle = minIdle;
			return this;
		}

		/** The cap on idle connections; unless set, it follows {@link #maxSize(int)}. */
		public Builder maxIdle(int maxIdle) {
			if (maxIdle < 0) {
				throw new IllegalArgumentException("maxIdle must be >= 0, was " + maxIdle);
			}
			this.maxIdle = maxIdle;
			return this;
		}

		public Builder maxIdleTime(Duration maxIdleTime) {
			this.maxIdleTime = nonNegative("maxIdleTime", maxIdleTime);
			return this;
		}

		public Builder maxLifetime(Duration maxLifetime) {
			this.maxLifetime = nonNegative("maxLifetime", maxLifetime);
			return this;
		}

		/** The jitter of lifetimes; unless set, it is {@code maxLifetime / 10}, at most one minute. */
		public Builder maxLifetimeJitter(Duration maxLifetimeJitter) {
			this.maxLifetimeJitter = nonNegative("maxLifetimeJitter", maxLifetimeJitter);
			return this;
		}

		/** A limited wait ({@link Duration#ZERO} = fail fast); replaces an earlier {@link #acquireTimeoutUnlimited()}. */
		public Builder acquireTimeout(Duration acquireTimeout) {
			this.acquireTimeout = nonNegative("acquireTimeout", acquireTimeout);
			this.acquireTimeoutUnlimited = false;
			return this;
		}

		/** Acquisitions wait without limit. Only for callers that bound the wait themselves. */
		public Builder acquireTimeoutUnlimited() {
			this.acquireTimeoutUnlimited = true;
			return this;
		}

		public Builder maxPendingAcquires(int maxPendingAcquires) {
			if (maxPendingAcquires < 0) {
				throw new IllegalArgumentException("maxPendingAcquires must be >= 0, was " + maxPendingAcquires);
			}
			this.maxPendingAcquires = maxPendingAcquires;
			return this;
		}

		public Builder maxUses(long maxUses) {
			if (maxUses < 0) {
				throw new IllegalArgumentException("maxUses must be >= 0 (0 = unlimited), was " + maxUses);
			}
			this.maxUses = maxUses;
			return this;
		}

		/** Replaces the init SQL with these statements, run in this order. */
		public Builder initSql(String... statements) {
			Objects.requireNonNull(statements, "statements must not be null");
			return initSql(List.of(statements));
		}

		/** Replaces the init SQL with these statements, run in this order. */
		public Builder initSql(List<String> statements) {
			Objects.requireNonNull(statements, "statements must not be null");
			List<String> copy = new ArrayList<>();
			for (String sql : statements) {
				if (sql == null || sql.isBlank()) {
					throw new IllegalArgumentException("initSql statements must not be null or blank, was " + statements);
				}
				copy.add(sql);
			}
			this.initSql = copy;
			return this;
		}

		public Builder validation(ValidationMode validation) {
			this.validation = Objects.requireNonNull(validation, "validation must not be null");
			return this;
		}

		public Builder validationIdleThreshold(Duration validationIdleThreshold) {
			this.validationIdleThreshold = nonNegative("validationIdleThreshold", validationIdleThreshold);
			return this;
		}

		/** SQL of remote checks, or {@code null} for {@link io.r2dbc.spi.ValidationDepth#REMOTE} validation. */
		public Builder validationQuery(@Nullable String validationQuery) {
			if (validationQuery != null && validationQuery.isBlank()) {
				throw new IllegalArgumentException("validationQuery must not be blank, was '" + validationQuery + "'");
			}
			this.validationQuery = validationQuery;
			return this;
		}

		public Builder keepAliveInterval(Duration keepAliveInterval) {
			this.keepAliveInterval = nonNegative("keepAliveInterval", keepAliveInterval);
			return this;
		}

		public Builder leakDetectionThreshold(Duration leakDetectionThreshold) {
			this.leakDetectionThreshold = nonNegative("leakDetectionThreshold", leakDetectionThreshold);
			return this;
		}

		/** Longest a release's cleanup may take before the connection is destroyed instead; must be > 0. */
		public Builder cleanupTimeout(Duration cleanupTimeout) {
			Objects.requireNonNull(cleanupTimeout, "cleanupTimeout must not be null");
			if (cleanupTimeout.isNegative() || cleanupTimeout.isZero()) {
				throw new IllegalArgumentException("cleanupTimeout must be > 0, was " + cleanupTimeout);
			}
			this.cleanupTimeout = cleanupTimeout;
			return this;
		}

		public Builder registerShutdownHook(boolean registerShutdownHook) {
			this.registerShutdownHook = registerShutdownHook;
			return this;
		}

		/** Source of timestamps; in tests, a clock that reads the virtual scheduler's time. */
		public Builder clock(Clock clock) {
			this.clock = Objects.requireNonNull(clock, "clock must not be null");
			return this;
		}

		/** Scheduler of timers and housekeeping; in tests, a virtual-time scheduler. */
		public Builder scheduler(Scheduler scheduler) {
			this.scheduler = Objects.requireNonNull(scheduler, "scheduler must not be null");
			return this;
		}

		/**
		 * Sets one setting by its name (see {@link PoolSettings#NAMES}) from a text or object value, as
		 * {@link PoolSettings#fromMap(Map)} does.
		 *
		 * @throws IllegalArgumentException for an unknown name or an invalid value
		 */
		public Builder set(String setting, Object value) {
			Objects.requireNonNull(setting, "setting must not be null");
			Objects.requireNonNull(value, "value must not be null");
			switch (setting) {
				case "name":
					return name(SettingValues.toText(setting, value));
				case "maxSize":
					return maxSize(SettingValues.toInt(setting, value));
				case "minIdle":
					return minIdle(SettingValues.toInt(setting, value));
				case "maxIdle":
					return maxIdle(SettingValues.toInt(setting, value));
				case "maxIdleTime":
					return maxIdleTime(SettingValues.toDuration(setting, value));
				case "maxLifetime":
					return maxLifetime(SettingValues.toDuration(setting, value));
				case "maxLifetimeJitter":
					return maxLifetimeJitter(SettingValues.toDuration(setting, value));
				case "acquireTimeout":
					return SettingValues.isUnlimited(value) ? acquireTimeoutUnlimited()
							: acquireTimeout(SettingValues.toDuration(setting, value));
				case "maxPendingAcquires":
					return maxPendingAcquires(SettingValues.toInt(setting, value));
				case "maxUses":
					return maxUses(SettingValues.toLong(setting, value));
				case "initSql":
					return initSql(SettingValues.toStatements(setting, value));
				case "validation":
					return validation(SettingValues.toValidationMode(setting, value));
				case "validationIdleThreshold":
					return validationIdleThreshold(SettingValues.toDuration(setting, value));
				case "validationQuery":
					return validationQuery(SettingValues.toText(setting, value));
				case "keepAliveInterval":
					return keepAliveInterval(SettingValues.toDuration(setting, value));
				case "leakDetectionThreshold":
					return leakDetectionThreshold(SettingValues.toDuration(setting, value));
				case "cleanupTimeout":
					return cleanupTimeout(SettingValues.toDuration(setting, value));
				case "registerShutdownHook":
					return registerShutdownHook(SettingValues.toBoolean(setting, value));
				default:
					throw new IllegalArgumentException("Unknown pool setting '" + setting + "'; known settings: "
							+ String.join(", ", NAMES));
			}
		}

		/**
		 * The settings.
		 *
		 * @throws IllegalArgumentException if settings contradict each other: {@code minIdle > maxSize},
		 *         {@code maxIdle} outside {@code minIdle..maxSize}, {@code maxLifetimeJitter >= maxLifetime},
		 *         a jitter without a lifetime, or {@code keepAliveInterval >= maxLifetime}
		 */
		public PoolSettings build() {
			if (minIdle > maxSize) {
				throw new IllegalArgumentException("minIdle (" + minIdle + ") must be <= maxSize (" + maxSize + ")");
			}
			int effectiveMaxIdle = maxIdle != null ? maxIdle : maxSize;
			if (effectiveMaxIdle < minIdle || effectiveMaxIdle > maxSize) {
				throw new IllegalArgumentException("maxIdle (" + effectiveMaxIdle + ") must be between minIdle (" + minIdle
						+ ") and maxSize (" + maxSize + ")");
			}
			Duration jitter;
			if (maxLifetimeJitter != null) {
				jitter = maxLifetimeJitter;
				if (maxLifetime.isZero() && !jitter.isZero()) {
					throw new IllegalArgumentException("maxLifetimeJitter (" + jitter
							+ ") needs a maxLifetime, but maxLifetime is ZERO (unlimited)");
				}
				if (!maxLifetime.isZero() && jitter.compareTo(maxLifetime) >= 0) {
					throw new IllegalArgumentException("maxLifetimeJitter (" + jitter + ") must be < maxLifetime ("
							+ maxLifetime + ")");
				}
			}
			else {
				Duration tenth = maxLifetime.dividedBy(10);
				jitter = tenth.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : tenth;
			}
			if (!keepAliveInterval.isZero() && !maxLifetime.isZero() && keepAliveInterval.compareTo(maxLifetime) >= 0) {
				throw new IllegalArgumentException("keepAliveInterval (" + keepAliveInterval + ") must be < maxLifetime ("
						+ maxLifetime + ")");
			}
			return new PoolSettings(this, effectiveMaxIdle, jitter);
		}

		private static Duration nonNegative(String setting, Duration value) {
			Objects.requireNonNull(value, setting + " must not be null");
			if (value.isNegative()) {
				throw new IllegalArgumentException(setting + " must be >= 0 (ZERO), was " + value);
			}
			return value;
		}
	}
}
