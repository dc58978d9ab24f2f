package io.tether.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.scheduler.Schedulers;

class PoolSettingsTest {

	@Test
	void defaults() {
		PoolSettings s = PoolSettings.defaults();
		assertThat(s.name()).isEqualTo("tether");
		assertThat(s.maxSize()).isEqualTo(10);
		assertThat(s.minIdle()).isZero();
		assertThat(s.maxIdle()).isEqualTo(10);
		assertThat(s.maxIdleTime()).isEqualTo(Duration.ofMinutes(30));
		assertThat(s.maxLifetime()).isEqualTo(Duration.ofMinutes(30));
		assertThat(s.maxLifetimeJitter()).isEqualTo(Duration.ofMinutes(1));
		assertThat(s.acquireTimeout()).isEqualTo(Duration.ofSeconds(30));
		assertThat(s.acquireTimeoutUnlimited()).isFalse();
		assertThat(s.maxPendingAcquires()).isEqualTo(Integer.MAX_VALUE);
		assertThat(s.maxUses()).isZero();
		assertThat(s.initSql()).isEmpty();
		assertThat(s.validation()).isEqualTo(ValidationMode.ON_ACQUIRE_IF_IDLE);
		assertThat(s.validationIdleThreshold()).isEqualTo(Duration.ofSeconds(5));
		assertThat(s.validationQuery()).isNull();
		assertThat(s.keepAliveInterval()).isZero();
		assertThat(s.leakDetectionThreshold()).isZero();
		assertThat(s.registerShutdownHook()).isFalse();
		assertThat(s.clock()).isEqualTo(Clock.systemUTC());
		assertThat(s.scheduler()).isSameAs(Schedulers.parallel());
	}

	@Test
	void derivedValuesFollowTheirSource() {
		PoolSettings s = PoolSettings.builder().maxSize(4).maxLifetime(Duration.ofMinutes(5)).build();
		assertThat(s.maxIdle()).isEqualTo(4);
		assertThat(s.maxLifetimeJitter()).isEqualTo(Duration.ofSeconds(30));
		PoolSettings bigger = s.toBuilder().maxSize(8).maxLifetime(Duration.ofMinutes(2)).build();
		assertThat(bigger.maxIdle()).as("maxIdle follows maxSize unless set").isEqualTo(8);
		assertThat(bigger.maxLifetimeJitter()).isEqualTo(Duration.ofSeconds(12));
		assertThat(PoolSettings.builder().maxLifetime(Duration.ZERO).build().maxLifetimeJitter()).isZero();
		assertThat(s.toBuilder().build()).isEqualTo(s);
	}

	@Test
	void unlimitedAcquireTimeout() {
		PoolSettings s = PoolSettings.builder().acquireTimeoutUnlimited().build();
		assertThat(s.acquireTimeoutUnlimited()).isTrue();
		assertThat(s.acquireTimeout()).isGreaterThan(Duration.ofDays(365L * 1000));
		assertThat(s.toString()).contains("acquireTimeout=unlimited");
		assertThat(s.toBuilder().acquireTimeout(Duration.ofSeconds(1)).build().acquireTimeoutUnlimited()).isFalse();
		assertThat(PoolSettings.fromMap(Map.of("acquireTimeout", "unlimited")).acquireTimeoutUnlimited()).isTrue();
	}

	static Stream<Arguments> rangeErrors() {
		return Stream.of(
				Arguments.of((Runnable) () -> PoolSettings.builder().maxSize(0), "maxSize must be >= 1, was 0"),
				Arguments.of((Runnable) () -> PoolSettings.builder().minIdle(-1), "minIdle must be >= 0, was -1"),
				Arguments.of((Runnable) () -> PoolSettings.builder().maxIdle(-2), "maxIdle must be >= 0, was -2"),
				Arguments.of((Runnable) () -> PoolSettings.builder().maxUses(-1), "maxUses must be >= 0 (0 = unlimited), was -1"),
				Arguments.of((Runnable) () -> PoolSettings.builder().maxPendingAcquires(-3), "maxPendingAcquires must be >= 0, was -3"),
				Arguments.of((Runnable) () -> PoolSettings.builder().acquireTimeout(Duration.ofMillis(-5)),
						"acquireTimeout must be >= 0 (ZERO), was PT-0.005S"),
				Arguments.of((Runnable) () -> PoolSettings.builder().maxIdleTime(Duration.ofSeconds(-1)),
						"maxIdleTime must be >= 0 (ZERO), was PT-1S"),
				Arguments.of((Runnable) () -> PoolSettings.builder().name(" "), "name must not be blank, was ' '"),
				Arguments.of((Runnable) () -> PoolSettings.builder().validationQuery(""), "validationQuery must not be blank, was ''"),
				Arguments.of((Runnable) () -> PoolSettings.builder().minIdle(11).build(), "minIdle (11) must be <= maxSize (10)"),
				Arguments.of((Runnable) () -> PoolSettings.builder().minIdle(3).maxIdle(2).build(),
						"maxIdle (2) must be between minIdle (3) and maxSize (10)"),
				Arguments.of((Runnable) () -> PoolSettings.builder().maxIdle(11).build(),
						"maxIdle (11) must be between minIdle (0) and maxSize (10)"),
				Arguments.of((Runnable) () -> PoolSettings.builder().maxLifetime(Duration.ofSeconds(10))
						.maxLifetimeJitter(Duration.ofSeconds(10)).build(), "maxLifetimeJitter (PT10S) must be < maxLifetime (PT10S)"),
				Arguments.of((Runnable) () -> PoolSettings.builder().maxLifetime(Duration.ZERO)
						.maxLifetimeJitter(Duration.ofSeconds(1)).build(),
						"maxLifetimeJitter (PT1S) needs a maxLifetime, but maxLifetime is ZERO (unlimited)"),
				Arguments.of((Runnable) () -> PoolSettings.builder().maxLifetime(Duration.ofMinutes(1))
						.keepAliveInterval(Duration.ofMinutes(1)).build(), "keepAliveInterval (PT1M) must be < maxLifetime (PT1M)"));
	}

	@ParameterizedTest
	@MethodSource("rangeErrors")
	void rangeAndCrossFieldErrorsNameTheValue(Runnable build, String message) {
		assertThatThrownBy(build::run).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
	}

	@Test
	void fromUrlReadsPoolOptionsAndIgnoresTheDriversOnes() {
		PoolSettings s = PoolSettings.fromUrl("r2dbc:postgresql://scott:tiger@db:5432/app?sslMode=disable"
				+ "&maxSize=20&minIdle=2&maxIdle=5&maxIdleTime=PT10M&maxLifetime=1h&maxLifetimeJitter=30s"
				+ "&acquireTimeout=2000ms&maxPendingAcquires=100&maxUses=500"
				+ "&initSql=SET%20search_path%20TO%20app;SET%20TIME%20ZONE%20'UTC'&validation=on_acquire_remote"
				+ "&validationIdleThreshold=1500&validationQuery=SELECT%201&keepAliveInterval=5m"
				+ "&leakDetectionThreshold=PT30S&registerShutdownHook=true&name=orders");
		assertThat(s.maxSize()).isEqualTo(20);
		assertThat(s.minIdle()).isEqualTo(2);
		assertThat(s.maxIdle()).isEqualTo(5);
		assertThat(s.maxIdleTime()).isEqualTo(Duration.ofMinutes(10));
		assertThat(s.maxLifetime()).isEqualTo(Duration.ofHours(1));
		assertThat(s.maxLifetimeJitter()).isEqualTo(Duration.ofSeconds(30));
		assertThat(s.acquireTimeout()).isEqualTo(Duration.ofSeconds(2));
		assertThat(s.maxPendingAcquires()).isEqualTo(100);
		assertThat(s.maxUses()).isEqualTo(500);
		assertThat(s.initSql()).containsExactly("SET search_path TO app", "SET TIME ZONE 'UTC'");
		assertThat(s.validation()).isEqualTo(ValidationMode.ON_ACQUIRE_REMOTE);
		assertThat(s.validationIdleThreshold()).isEqualTo(Duration.ofMillis(1500));
		assertThat(s.validationQuery()).isEqualTo("SELECT 1");
		assertThat(s.keepAliveInterval()).isEqualTo(Duration.ofMinutes(5));
		assertThat(s.leakDetectionThreshold()).isEqualTo(Duration.ofSeconds(30));
		assertThat(s.registerShutdownHook()).isTrue();
		assertThat(s.name()).isEqualTo("orders");
		assertThat(PoolSettings.fromUrl("r2dbc:h2:mem:///db")).isEqualTo(PoolSettings.defaults());
	}

	@Test
	void fromOptionsAcceptsTypedValues() {
		ConnectionFactoryOptions options = ConnectionFactoryOptions.builder()
				.option(ConnectionFactoryOptions.DRIVER, "h2")
				.option(Option.valueOf("maxSize"), 7)
				.option(Option.valueOf("acquireTimeout"), Duration.ofMillis(250))
				.option(Option.valueOf("maxUses"), 9L)
				.option(Option.valueOf("registerShutdownHook"), Boolean.FALSE)
				.option(Option.valueOf("validation"), ValidationMode.NEVER)
				.option(Option.valueOf("maxIdleTime"), "PT2S")
				.build();
		PoolSettings s = PoolSettings.fromOptions(options);
		assertThat(s.maxSize()).isEqualTo(7);
		assertThat(s.acquireTimeout()).isEqualTo(Duration.ofMillis(250));
		assertThat(s.maxUses()).isEqualTo(9);
		assertThat(s.validation()).isEqualTo(ValidationMode.NEVER);
		assertThat(s.maxIdleTime()).isEqualTo(Duration.ofSeconds(2));
	}

	@Test
	void fromMapAcceptsPrefixedKeysAndListsOfStatements() {
		Map<String, Object> props = new LinkedHashMap<>();
		props.put("tether.pool.maxSize", "3");
		props.put("minIdle", 1);
		props.put("tether.pool.initSql", List.of("SET a = 1", "SET b = 2"));
		props.put("acquireTimeout", 0);
		props.put("maxLifetime", Duration.ofMinutes(3));
		PoolSettings s = PoolSettings.fromMap(props);
		assertThat(s.maxSize()).isEqualTo(3);
		assertThat(s.minIdle()).isEqualTo(1);
		assertThat(s.initSql()).containsExactly("SET a = 1", "SET b = 2");
		assertThat(s.acquireTimeout()).isZero();
		assertThat(s.maxLifetime()).isEqualTo(Duration.ofMinutes(3));
	}

	@Test
	void durationFormats() {
		for (Object[] c : new Object[][] { { "PT2S", 2000L }, { "2000ms", 2000L }, { "2s", 2000L }, { "5m", 300_000L },
				{ "1h", 3_600_000L }, { "1d", 86_400_000L }, { "1500", 1500L }, { " 7 ms ", 7L }, { 42, 42L },
				{ Duration.ofMillis(3), 3L } }) {
			assertThat(PoolSettings.fromMap(Map.of("maxIdleTime", c[0])).maxIdleTime().toMillis()).as("%s", c[0]).isEqualTo(c[1]);
		}
	}

	static Stream<Arguments> badValues() {
		return Stream.of(
				Arguments.of("maxSize", "ten", "Invalid value for pool setting maxSize: 'ten' (String), expected an integer"),
				Arguments.of("maxSize", 1.5, "Invalid value for pool setting maxSize: '1.5' (Double), expected an integer"),
				Arguments.of("maxSize", "0", "maxSize must be >= 1, was 0"),
				Arguments.of("maxSize", 3_000_000_000L,
						"Invalid value for pool setting maxSize: '3000000000' (Long), expected an integer between -2147483648 and 2147483647"),
				Arguments.of("acquireTimeout", "2 seconds", "Invalid value for pool setting acquireTimeout: '2 seconds' (String), "
						+ "expected a duration: ISO-8601 like PT2S, or 2000ms, 2s, 5m, 1h, 1d, or plain milliseconds"),
				Arguments.of("acquireTimeout", "PTXS", "Invalid value for pool setting acquireTimeout: 'PTXS' (String), "
						+ "expected a duration: ISO-8601 like PT2S, or 2000ms, 2s, 5m, 1h, 1d, or plain milliseconds"),
				Arguments.of("acquireTimeout", "-PT1S", "acquireTimeout must be >= 0 (ZERO), was PT-1S"),
				Arguments.of("registerShutdownHook", "yes",
						"Invalid value for pool setting registerShutdownHook: 'yes' (String), expected true or false"),
				Arguments.of("validation", "sometimes", "Invalid value for pool setting validation: 'sometimes' (String), "
						+ "expected one of [NEVER, ON_ACQUIRE_LOCAL, ON_ACQUIRE_REMOTE, ON_ACQUIRE_IF_IDLE]"),
				Arguments.of("initSql", 5, "Invalid value for pool setting initSql: '5' (Integer), "
						+ "expected SQL text (statements separated by ';') or a list of statements"),
				Arguments.of("name", 5, "Invalid value for pool setting name: '5' (Integer), expected text"));
	}

	@ParameterizedTest
	@MethodSource("badValues")
	void badValuesAreReportedWithTheSettingAndTheValue(String key, Object value, String message) {
		assertThatThrownBy(() -> PoolSettings.fromMap(Map.of(key, value))).isInstanceOf(IllegalArgumentException.class)
				.hasMessage(message);
	}

	@Test
	void badUrlValueIsReported() {
		assertThatThrownBy(() -> PoolSettings.fromUrl("r2dbc:h2:mem:///db?maxSize=many"))
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessage("Invalid value for pool setting maxSize: 'many' (String), expected an integer");
	}

	@Test
	void unknownMapKeyNamesTheKeyAndTheKnownOnes() {
		assertThatThrownBy(() -> PoolSettings.fromMap(Map.of("tether.pool.colour", 5)))
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessageStartingWith("Unknown pool setting 'tether.pool.colour'; known settings")
				.hasMessageContaining("maxSize, minIdle, maxIdle");
		Map<String, Object> withNull = new LinkedHashMap<>();
		withNull.put("maxSize", null);
		assertThatThrownBy(() -> PoolSettings.fromMap(withNull)).hasMessage("Pool setting 'maxSize' has a null value");
	}

	@Test
	void toStringMasksSecrets() {
		PoolSettings s = PoolSettings.builder()
				.name("app")
				.initSql("ALTER USER app PASSWORD 'hunter2'", "SET app.token = abc123")
				.validationQuery("SELECT 1 /* secret=xyz */")
				.build();
		String text = s.toString();
		assertThat(text).doesNotContain("hunter2", "abc123", "xyz")
				.contains("PASSWORD ***", "token = ***", "secret=***", "maxSize=10", "name=app");
		assertThatThrownBy(() -> PoolSettings.fromUrl("r2dbc:postgresql://scott:tiger@db/app?maxSize=x"))
				.hasMessageNotContaining("tiger");
		assertThatThrownBy(() -> TetherPool.create("r2dbc:pool:postgresql://scott:tiger@db/app"))
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessageStartingWith("TetherPool.create(url) does not take 'r2dbc:pool:' URLs")
				.hasMessageNotContaining("tiger")
				.hasMessageContaining("scott:***@db");
	}

	@Test
	void poolOptionsAreStrippedFromTheDriverUrl() {
		assertThat(TetherPool.withoutPoolSettings("r2dbc:h2:mem:///db?maxSize=3&options=DB_CLOSE_DELAY=-1&initSql=SET%20X%3D1"))
				.isEqualTo("r2dbc:h2:mem:///db?options=DB_CLOSE_DELAY=-1");
		assertThat(TetherPool.withoutPoolSettings("r2dbc:h2:mem:///db?maxSize=3")).isEqualTo("r2dbc:h2:mem:///db");
		assertThat(TetherPool.withoutPoolSettings("r2dbc:h2:mem:///db")).isEqualTo("r2dbc:h2:mem:///db");
	}

	@ParameterizedTest
	@MethodSource("misspelt")
	void anOptionCloseToASettingIsRefusedWithTheLikelyName(String option, String meant) {
		assertThatThrownBy(() -> PoolSettings.fromUrl("r2dbc:postgresql://app:pw@db/shop?" + option + "=5"))
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessageStartingWith("unknown pool option '" + option + "' — did you mean '" + meant + "'?")
				.hasMessageNotContaining(":pw@");
	}

	static Stream<Arguments> misspelt() {
		return Stream.of(Arguments.of("maxsize", "maxSize"), Arguments.of("MAXSIZE", "maxSize"), Arguments.of("poolSize", "maxSize"),
				Arguments.of("maximumPoolSize", "maxSize"), Arguments.of("maxSise", "maxSize"), Arguments.of("minIddle", "minIdle"),
				Arguments.of("maxUse", "maxUses"), Arguments.of("acquireTimout", "acquireTimeout"),
				Arguments.of("maxLifeTime", "maxLifetime"), Arguments.of("initialSize", "minIdle"),
				Arguments.of("connectionTimeout", "acquireTimeout"), Arguments.of("idleTimeout", "maxIdleTime"));
	}

	/** The driver options of r2dbc-postgresql, r2dbc-h2 and r2dbc-mariadb are not mistaken for misspelt settings. */
	@Test
	void driverOptionsPassThrough() {
		for (String option : List.of("applicationName", "connectTimeout", "sslMode", "sslCert", "sslKey", "sslRootCert",
				"schema", "options", "statementTimeout", "lockWaitTimeout", "tcpKeepAlive", "tcpNoDelay", "fetchSize",
				"forceBinary", "autodetectExtensions", "preparedStatementCacheQueries", "timeZone", "socket", "noticeLogLevel",
				"errorResponseLogLevel", "compatibilityMode", "extensions", "loopResources", "DB_CLOSE_DELAY", "sessionVariables",
				"allowPipelining", "useServerPrepStmts", "prepareCacheSize", "connectionAttributes", "restrictedAuth",
				"tinyInt1isBit", "autocommit", "isolationLevel", "permitRedirect", "allowPublicKeyRetrieval", "timezone")) {
			assertThat(PoolSettings.fromUrl("r2dbc:postgresql://db/shop?" + option + "=x&maxSize=3").maxSize())
					.as(option).isEqualTo(3);
		}
	}

	@Test
	void anUnknownMapKeySuggestsTheLikelySetting() {
		assertThatThrownBy(() -> PoolSettings.fromMap(Map.of("tether.pool.maxsize", 5)))
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessageStartingWith("Unknown pool setting 'tether.pool.maxsize' — did you mean 'maxSize'?");
	}

	@Test
	void maskHidesPasswordsWithSpacesAndAtSigns() {
		assertThat(R2dbcUrls.mask("r2dbc:postgresql://app:p@ss w@db:5432/shop?password=x&user=y"))
				.isEqualTo("r2dbc:postgresql://app:***@db:5432/shop?password=***&user=y");
	}
}
