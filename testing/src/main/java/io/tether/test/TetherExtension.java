package io.tether.test;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.tether.core.Database;
import io.tether.pool.PoolSettings;
import io.tether.pool.TetherPool;
import io.tether.test.internal.Await;
import io.tether.test.internal.PoolGauges;
import io.tether.test.internal.SqlText;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstancePostProcessor;
import org.junit.platform.commons.support.AnnotationSupport;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The JUnit 5 extension behind {@link TetherTest}; see there for what it provides and checks. It can also be
 * registered with {@code @ExtendWith(TetherExtension.class)}, with {@code @TetherTest}'s defaults.
 *
 * <p>JUnit calls extensions synchronously, so this class waits (with a limit) for the schema scripts, the
 * checks after each test, and the close of the database: this is the edge of the program, where blocking
 * belongs. Nothing here runs on a non-blocking thread.
 *
 * @since 0.1
 */
public final class TetherExtension implements BeforeAllCallback, AfterEachCallback, ParameterResolver, TestInstancePostProcessor {

	private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TetherExtension.class);
	private static final Duration SETUP_LIMIT = Duration.ofSeconds(60);
	private static final List<Class<?>> PROVIDED = List.of(Database.class, Rollback.class,
			RecordingConnectionFactory.class, TetherPool.class, ConnectionPool.class);

	/** Creates the extension; JUnit does, for {@link TetherTest}. */
	public TetherExtension() {
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		resources(context);
	}

	@Override
	public void postProcessTestInstance(Object testInstance, ExtensionContext context) throws IllegalAccessException {
		Resources r = null;
		for (Class<?> c = testInstance.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
			for (Field f : c.getDeclaredFields()) {
				int m = f.getModifiers();
				if (Modifier.isStatic(m) || Modifier.isFinal(m) || !PROVIDED.contains(f.getType())) {
					continue;
				}
				f.setAccessible(true);
				if (f.get(testInstance) == null) {
					if (r == null) {
						r = resources(context);
					}
					f.set(testInstance, r.provide(f.getType()));
				}
			}
		}
	}

	@Override
	public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
		return PROVIDED.contains(parameterContext.getParameter().getType());
	}

	@Override
	public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
		Class<?> type = parameterContext.getParameter().getType();
		if (!PROVIDED.contains(type)) {
			throw new ParameterResolutionException("TetherExtension does not provide " + type.getName());
		}
		return resources(extensionContext).provide(type);
	}

	@Override
	public void afterEach(ExtensionContext context) {
		Resources r = resources(context);
		RecordingConnectionFactory recorder = r.recorder;
		Settings s = r.settings;
		Duration wait = Duration.ofMillis(s.releaseWaitMillis());
		// An acquisition still under way (a new connection being opened) counts as not quiet: its connection
		// arrives after the check otherwise, and the leak goes unseen into the next test.
		boolean quiet = Await.until(() -> recorder.acquiredConnections().isEmpty() && recorder.acquisitionsInFlight() == 0
				&& PoolGauges.acquired(r.pool) == 0, wait);

		List<AssertionError> findings = new ArrayList<>();
		String after = "after the test (waited " + wait.toMillis() + " ms for releases in the background)";
		List<RecordedConnection> leaked = recorder.acquiredConnections();
		add(findings, Findings.stillAcquired(leaked, after));
		int waiting = recorder.acquisitionsInFlight();
		if (waiting > 0) {
			findings.add(new AssertionError(waiting + " acquisition(s) still waiting for a connection " + after
					+ "; a pipeline of the test was not completed or cancelled"));
		}
		add(findings, Findings.openTransactions(recorder.connectionsWithOpenTransaction(), "after the test"));
		add(findings, Findings.doubleReleases(recorder));
		if (s.rollback()) {
			add(findings, Findings.commitsOutsideRollback(recorder));
		}
		if (s.strict()) {
			add(findings, Findings.outsideScope(recorder.connectionsAcquiredOutsideKitPipelines(),
					"outside the pipelines handed to Rollback or a PipelineProbe (@TetherTest(strict = true))"));
		}
		// Judged from the wait above: the pool's own keep-alive checks may take a connection for a moment at any time.
		if (!quiet && leaked.isEmpty() && waiting == 0) {
			findings.add(new AssertionError("the pool is not fully returned after the test: " + PoolGauges.describe(r.pool)
					+ " (connections taken from the " + r.pool.getClass().getSimpleName() + " parameter directly must be closed)"));
		}

		// Give leaked connections back, so that the next test starts with a full pool and clean counts.
		Flux.fromIterable(leaked).concatMap(c -> c.forceRelease().onErrorResume(e -> Mono.empty()))
				.then().block(SETUP_LIMIT);
		recorder.reset();

		if (!findings.isEmpty()) {
			throw combine(context.getDisplayName(), findings);
		}
	}

	private static void add(List<AssertionError> findings, @Nullable AssertionError error) {
		if (error != null) {
			findings.add(error);
		}
	}

	private static AssertionError combine(String test, List<AssertionError> findings) {
		StringBuilder message = new StringBuilder("@TetherTest: ").append(test).append(" left problems behind:");
		for (AssertionError e : findings) {
			message.append("\n- ").append(e.getMessage().replace("\n", "\n  "));
		}
		AssertionError first = findings.get(0);
		AssertionError all = new AssertionError(message.toString(), first.getCause());
		for (Throwable t : first.getSuppressed()) {
			all.addSuppressed(t);
		}
		for (AssertionError e : findings.subList(1, findings.size())) {
			all.addSuppressed(e);
		}
		return all;
	}

	// ---------------------------------------------------------------- resources

	private static Resources resources(ExtensionContext context) {
		Class<?> owner = ownerClass(context);
		ExtensionContext ownerContext = context;
		while (!(ownerContext.getTestMethod().isEmpty() && ownerContext.getTestClass().orElse(null) == owner)) {
			Optional<ExtensionContext> parent = ownerContext.getParent();
			if (parent.isEmpty()) {
				ownerContext = context;
				break;
			}
			ownerContext = parent.get();
		}
		Settings settings = Settings.of(owner);
		return ownerContext.getStore(NAMESPACE).getOrComputeIfAbsent(Resources.class,
				k -> Resources.open(settings, owner), Resources.class);
	}

	/**
	 * The outermost class annotated with {@link TetherTest} among the test class and the classes enclosing it as
	 * {@code @Nested} (inner) classes, else the test class. A static nested class is a test class of its own.
	 */
	private static Class<?> ownerClass(ExtensionContext context) {
		Class<?> testClass = context.getRequiredTestClass();
		Class<?> owner = testClass;
		for (Class<?> c = testClass; c != null; c = isInner(c) ? c.getEnclosingClass() : null) {
			if (AnnotationSupport.isAnnotated(c, TetherTest.class)) {
				owner = c;
			}
		}
		return owner;
	}

	private static boolean isInner(Class<?> c) {
		return c.isMemberClass() && !Modifier.isStatic(c.getModifiers());
	}

	record Settings(TestDatabase database, List<String> schema, boolean rollback, boolean strict, int poolSize,
			long releaseWaitMillis, TestPool pool) {

		static Settings of(Class<?> owner) {
			Optional<TetherTest> a = AnnotationSupport.findAnnotation(owner, TetherTest.class);
			if (a.isEmpty()) {
				return new Settings(TestDatabase.H2, List.of(), false, false, 4, 2000, TestPool.TETHER);
			}
			TetherTest t = a.get();
			if (t.poolSize() < 1) {
				throw new ExtensionConfigurationException("@TetherTest(poolSize) must be >= 1, was " + t.poolSize());
			}
			if (t.releaseWaitMillis() < 0) {
				throw new ExtensionConfigurationException("@TetherTest(releaseWaitMillis) must be >= 0, was "
						+ t.releaseWaitMillis());
			}
			return new Settings(t.database(), List.of(t.schema()), t.rollback(), t.strict(), t.poolSize(),
					t.releaseWaitMillis(), t.pool());
		}
	}

	/** What one test class gets, closed with its extension context. */
	static final class Resources implements AutoCloseable {

		final Settings settings;
		final ConnectionFactory target;
		final @Nullable String h2Url;
		/** A {@link TetherPool} or an r2dbc-pool {@link ConnectionPool}, per {@link TetherTest#pool()}. */
		final ConnectionFactory pool;
		final RecordingConnectionFactory recorder;
		final Database db;
		final Rollback rollback;

		private Resources(Settings settings, ConnectionFactory target, @Nullable String h2Url, ConnectionFactory pool,
				String name) {
			this.settings = settings;
			this.target = target;
			this.h2Url = h2Url;
			this.pool = pool;
			this.recorder = RecordingConnectionFactory.wrap(pool);
			this.db = Database.builder(recorder).name(name).build();
			this.rollback = Rollback.of(db);
		}

		static Resources open(Settings settings, Class<?> owner) {
			String url;
			String h2Url = null;
			if (settings.database() == TestDatabase.H2) {
				url = "r2dbc:h2:mem:///tether_test_" + UUID.randomUUID().toString().replace("-", "")
						+ "?options=DB_CLOSE_DELAY=-1";
				h2Url = url;
			}
			else {
				url = TestDatabase.postgresUrl();
			}
			ConnectionFactory target;
			try {
				target = ConnectionFactories.get(url);
			}
			catch (RuntimeException e) {
				throw new ExtensionConfigurationException("@TetherTest(database = " + settings.database()
						+ ") found no R2DBC driver for its URL; add "
						+ (settings.database() == TestDatabase.H2 ? "io.r2dbc:r2dbc-h2 and com.h2database:h2"
								: "org.postgresql:r2dbc-postgresql")
						+ " to the test classpath", e);
			}
			String name = "tether-test:" + owner.getSimpleName();
			ConnectionFactory pool = settings.pool() == TestPool.TETHER
					? TetherPool.create(target, PoolSettings.builder()
							.name(name)
							.maxSize(settings.poolSize())
							.acquireTimeout(Duration.ofSeconds(10))
							.build())
					: new ConnectionPool(ConnectionPoolConfiguration.builder(target)
							.name(name)
							.initialSize(0)
							.maxSize(settings.poolSize())
							.maxAcquireTime(Duration.ofSeconds(10))
							.build());
			Resources r = new Resources(settings, target, h2Url, pool, name);
			try {
				r.runSchema(owner);
			}
			catch (RuntimeException | Error e) {
				r.close();
				throw e;
			}
			return r;
		}

		Object provide(Class<?> type) {
			if (type == Database.class) {
				return db;
			}
			if (type == Rollback.class) {
				return rollback;
			}
			if (type == RecordingConnectionFactory.class) {
				return recorder;
			}
			if (type == TetherPool.class || type == ConnectionPool.class) {
				if (!type.isInstance(pool)) {
					throw new ParameterResolutionException("@TetherTest(pool = " + settings.pool() + ") provides "
							+ pool.getClass().getName() + ", not " + type.getName());
				}
				return pool;
			}
			throw new ParameterResolutionException("TetherExtension does not provide " + type.getName());
		}

		/** Runs the scripts on the pool itself, so that the recorder starts empty. */
		private void runSchema(Class<?> owner) {
			for (String resource : settings.schema()) {
				List<String> statements = SqlText.statements(read(owner, resource));
				Flux.usingWhen(pool.create(),
						c -> Flux.fromIterable(statements).index().concatMap(s -> run(c, resource, s.getT1() + 1, s.getT2())),
						Connection::close)
						.then()
						.block(SETUP_LIMIT);
			}
		}

		private static Flux<Long> run(Connection c, String resource, long n, String sql) {
			return Flux.from(c.createStatement(sql).execute())
					.concatMap(result -> result.getRowsUpdated())
					.onErrorMap(e -> new ExtensionConfigurationException("Schema script '" + resource + "' failed at statement "
							+ n + ": " + Findings.abbreviate(sql) + " (" + e.getMessage() + ")", e));
		}

		private static String read(Class<?> owner, String resource) {
			String name = resource.startsWith("/") ? resource.substring(1) : resource;
			ClassLoader loader = owner.getClassLoader();
			try (InputStream in = loader == null ? null : loader.getResourceAsStream(name)) {
				if (in == null) {
					throw new ExtensionConfigurationException("@TetherTest(schema) resource '" + resource
							+ "' is not on the classpath of " + owner.getName());
				}
				return new String(in.readAllBytes(), StandardCharsets.UTF_8);
			}
			catch (IOException e) {
				throw new ExtensionConfigurationException("Cannot read @TetherTest(schema) resource '" + resource + "'", e);
			}
		}

		@Override
		public void close() {
			db.closeLater().block(SETUP_LIMIT);
			if (pool instanceof TetherPool p) {
				p.close();
			}
			else {
				((ConnectionPool) pool).disposeLater().block(SETUP_LIMIT);
			}
			if (h2Url != null) {
				// DB_CLOSE_DELAY=-1 keeps an in-memory H2 database for the life of the JVM; drop it now.
				Flux.usingWhen(Mono.from(target.create()),
						c -> Flux.from(c.createStatement("SHUTDOWN").execute()).concatMap(result -> result.getRowsUpdated()),
						c -> Mono.from(c.close()).onErrorResume(e -> Mono.empty()))
						.onErrorResume(e -> Mono.empty())
						.then()
						.block(SETUP_LIMIT);
			}
		}
	}
}
