package io.tether.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.r2dbc.pool.ConnectionPool;
import io.tether.context.ConnectionUnavailableException;
import io.tether.context.Propagation;
import io.tether.context.TransactionOptions;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Leaks;
import io.tether.pool.PoolSettings;
import io.tether.pool.TetherPool;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.util.retry.Retry;

/**
 * The error contract of the README's table "What goes wrong, and what you get": for each failure a user can
 * cause, the exception type, whether it is transient (worth a retry), and what the message names. Each test
 * provokes the failure for real on the database of the subclass, and ends with every connection released.
 */
abstract class ErrorContract {

	static final Duration TIMEOUT = Duration.ofSeconds(30);
	static final String SECRET = "s3cr3t-Pw";
	static final String VALUE = "secret-value-42";

	protected ConnectionPool pool;
	protected CountingConnectionFactory counting;
	protected Database db;

	abstract io.tether.context.testing.Database database();

	/** A URL of this driver whose database does not exist. */
	abstract String unknownDatabaseUrl();

	/** A URL of this driver for a user the server refuses; {@link #dropRefusedUser()} undoes what it set up. */
	abstract String refusedUserUrl();

	abstract void dropRefusedUser();

	/** A working URL of this driver with {@code user:password@} in it and {@code query} appended. */
	abstract String urlWithPassword(String password, String query);

	/** The most bind values one statement may carry on this database. */
	abstract int bindLimit();

	/** One-column SQL whose failure, for {@code :v} bound to {@link #VALUE}, makes the server quote the value. */
	abstract String valueEchoingSql();

	@BeforeEach
	void open() {
		pool = database().pool(4);
		counting = new CountingConnectionFactory(pool);
		db = Database.builder(counting).build();
	}

	@AfterEach
	void close() {
		try {
			Leaks.assertAllReleased(counting, pool);
		}
		finally {
			pool.disposeLater().block(TIMEOUT);
		}
	}

	// ---------------------------------------------------------------- connecting

	@Test
	void anUnknownDatabaseIsNotTransientAndRetryingDoesNotHelp() {
		try (Database unknown = Database.connect(unknownDatabaseUrl())) {
			AtomicInteger attempts = new AtomicInteger();
			Throwable error = retryingWhileTransient(unknown, attempts);
			assertThat(error).isInstanceOf(NonTransientConnectionException.class).hasMessageContaining("nosuch_db");
			assertThat(((DataAccessException) error).isTransient()).isFalse();
			assertThat(attempts).as("a retry filter on isTransient() never retries").hasValue(1);
			// And had it retried: the same failure again.
			assertThat(catchThrowable(() -> unknown.sql("select 1").then().block(TIMEOUT)))
					.isInstanceOf(NonTransientConnectionException.class);
			assertThat(((TetherPool) unknown.connectionFactory()).stats().acquired()).isZero();
		}
	}

	@Test
	void badCredentialsAreANonTransientPermissionErrorWithoutThePassword() {
		try {
			try (Database refused = Database.connect(refusedUserUrl())) {
				AtomicInteger attempts = new AtomicInteger();
				Throwable error = retryingWhileTransient(refused, attempts);
				assertThat(error).isInstanceOf(PermissionDeniedException.class);
				assertThat(((DataAccessException) error).sqlState()).startsWith("28");
				assertThat(((DataAccessException) error).isTransient()).isFalse();
				assertThat(attempts).hasValue(1);
				assertNoSecret(error, SECRET);
			}
		}
		finally {
			dropRefusedUser();
		}
	}

	@Test
	void aClosedDatabaseIsNotTransient() {
		Database closed = Database.of(counting);
		closed.closeLater().block(TIMEOUT);
		for (Supplier<Mono<?>> statement : List.<Supplier<Mono<?>>>of(() -> closed.sql("select 1").then(),
				() -> closed.sql("select 1").mapTo(Integer.class).one(),
				() -> closed.batch("select :x").add(Map.of("x", 1)).rowsUpdated().then())) {
			statement.get().as(StepVerifier::create)
					.expectErrorSatisfies(e -> {
						assertThat(e).isInstanceOf(NonTransientConnectionException.class).hasMessageContaining("is closed");
						assertThat(((DataAccessException) e).isTransient()).isFalse();
					})
					.verify(TIMEOUT);
		}
		assertThat(counting.acquired()).as("nothing acquired").isZero();
	}

	@Test
	void aClosedPoolIsNotTransientForTethersPoolAndForR2dbcPool() {
		TetherPool tether = TetherPool.create(database().connectionFactory(), PoolSettings.builder().maxSize(1).build());
		tether.closeLater().block(TIMEOUT);
		Database onTether = Database.of(tether);
		onTether.sql("select 1").then().as(StepVerifier::create)
				.expectErrorSatisfies(e -> {
					assertThat(e).isInstanceOf(NonTransientConnectionException.class).hasMessageContaining("is closed");
					assertThat(((DataAccessException) e).isTransient()).isFalse();
				})
				.verify(TIMEOUT);
		ConnectionPool r2dbcPool = io.tether.context.testing.Database.pool(database().connectionFactory(), 1, Duration.ofSeconds(5));
		r2dbcPool.disposeLater().block(TIMEOUT);
		Database.of(r2dbcPool).inConnection(Mono.just(1)).as(StepVerifier::create)
				.expectErrorSatisfies(e -> {
					assertThat(e).isInstanceOf(NonTransientConnectionException.class);
					assertThat(((DataAccessException) e).isTransient()).isFalse();
				})
				.verify(TIMEOUT);
	}

	@Test
	void anUnknownDriverIsAnIllegalArgumentListingTheDriversFound() {
		assertThatIllegalArgumentException()
				.isThrownBy(() -> Database.connect("r2dbc:postgresq://app:" + SECRET + "@127.0.0.1:5432/x"))
				.withMessageContaining("No R2DBC driver 'postgresq'")
				.withMessageContaining("did you mean 'postgresql'?")
				.withMessageContaining("drivers found:")
				.withMessageContaining("h2")
				.satisfies(e -> assertNoSecret(e, SECRET));
		assertThatIllegalArgumentException().isThrownBy(() -> TetherPool.create("r2dbc:acme://localhost/db"))
				.withMessageContaining("No R2DBC driver 'acme'");
	}

	@Test
	void aMisspeltPoolOptionIsRefusedWithTheLikelyName() {
		assertThatIllegalArgumentException().isThrownBy(() -> Database.connect(urlWithPassword(SECRET, "maxsize=5")))
				.withMessageStartingWith("unknown pool option 'maxsize' — did you mean 'maxSize'?")
				.satisfies(e -> assertNoSecret(e, SECRET));
		assertThatIllegalArgumentException().isThrownBy(() -> Database.connect(urlWithPassword(SECRET, "poolSize=5")))
				.withMessageStartingWith("unknown pool option 'poolSize' — did you mean 'maxSize'?");
		assertThatIllegalArgumentException().isThrownBy(() -> Database.connect(urlWithPassword(SECRET, "acquireTimout=2s")))
				.withMessageStartingWith("unknown pool option 'acquireTimout' — did you mean 'acquireTimeout'?");
		assertThatIllegalArgumentException().isThrownBy(() -> Database.connect(urlWithPassword(SECRET, "maxLifeTime=5m")))
				.withMessageStartingWith("unknown pool option 'maxLifeTime' — did you mean 'maxLifetime'?");
	}

	// ---------------------------------------------------------------- statements

	@Test
	void emptyBlankAndCommentOnlySqlFailBeforeAnythingIsAcquired() {
		for (String sql : List.of("", "   \n\t", "-- nothing here", "/* just /* nested */ a comment */", " ; ;")) {
			db.sql(sql).then().as(StepVerifier::create)
					.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(InvalidSqlException.class)
							.hasMessageStartingWith("SQL is ")
							.hasMessageContaining("expected a statement to run"))
					.verify(TIMEOUT);
			db.batch(sql).add(Map.of()).rowsUpdated().as(StepVerifier::create)
					.expectError(InvalidSqlException.class).verify(TIMEOUT);
		}
		assertThat(counting.acquired()).isZero();
		db.sql("-- a comment, then\nselect 1").mapTo(Integer.class).one().as(StepVerifier::create).expectNext(1).verifyComplete();
	}

	record Money(long cents, String currency) {
	}

	@Test
	void aValueTheDriverCannotEncodeNamesParameterTypeAndSqlButNeverTheValue() {
		Map<Object, String> values = new IdentityHashMap<>();
		values.put(new Money(4200, VALUE), Money.class.getName());
		values.put(new Thread(() -> { }, VALUE), Thread.class.getName());
		values.put(Optional.of(VALUE), Optional.class.getName());
		String sql = "select :id as id, :amount as amount";
		values.forEach((value, typeName) -> db.sql(sql).bind("id", 1).bind("amount", value).then()
				.as(StepVerifier::create)
				.expectErrorSatisfies(e -> {
					assertThat(e).isInstanceOf(ParameterException.class)
							.hasMessageContaining("parameter 'amount' at offset 18")
							.hasMessageContaining("cannot encode a value of type " + typeName)
							.hasMessageContaining("in SQL: " + sql);
					assertThat(((DataAccessException) e).sql()).isEqualTo(sql);
					assertNoSecret(e, VALUE);
				})
				.verify(TIMEOUT));
		db.batch("select :amount").add(Map.of("amount", 1)).add(Map.of("amount", Optional.of(VALUE))).rowsUpdated()
				.as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ParameterException.class)
						.hasMessageContaining("parameter 'amount'").hasMessageContaining("of set 1 of the batch")
						.satisfies(x -> assertNoSecret(x, VALUE)))
				.verify(TIMEOUT);
		// An element of an expanded collection is named with its index.
		db.sql("select 1 where 1 in (:ids)").bind("ids", List.of(1, Optional.of(VALUE))).then().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("parameter 'ids' at offset 21 (line 1, column 22) (element 1 of 2)"))
				.verify(TIMEOUT);
	}

	@Test
	void anInListPastTheBindLimitFailsBeforeAnythingIsSent() {
		List<Integer> ids = new ArrayList<>();
		for (int i = 0; i < bindLimit() + 1; i++) {
			ids.add(i);
		}
		db.sql("select count(*) from (select 1 as x) t where x in (:ids)").bind("ids", ids).mapTo(Long.class).one()
				.as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ParameterException.class)
						.hasMessageContaining(String.format("needs %,d bind values", bindLimit() + 1))
						.hasMessageContaining(String.format("(%,d)", bindLimit()))
						.hasMessageContaining("parameter 'ids'")
						.hasMessageContaining("'= any(:ids)'"))
				.verify(TIMEOUT);
		assertThat(counting.acquired()).as("nothing acquired, nothing sent").isZero();
		// Whoever knows better sets the limit.
		Database.builder(counting).maxBindParameters(2).build().sql("select 1 where 1 in (:ids)").bind("ids", List.of(1, 2, 3))
				.then().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ParameterException.class).hasMessageContaining("(2)"))
				.verify(TIMEOUT);
	}

	interface Named {
		String name();
	}

	abstract static class Shape {
	}

	@Test
	void unmappableTargetsAreNamedWhereMapToIsCalled() {
		assertThat(catchThrowable(() -> db.sql("select 1 as id").mapTo(Named.class)))
				.isInstanceOf(MappingException.class)
				.hasMessageContaining(Named.class.getName())
				.hasMessageContaining("an interface")
				.hasMessageContaining("record");
		assertThat(catchThrowable(() -> db.sql("select 1 as id").mapTo(Shape.class)))
				.isInstanceOf(MappingException.class).hasMessageContaining("an abstract class");
		assertThat(catchThrowable(() -> db.sql("select 1 as id").mapTo(Void.class)))
				.isInstanceOf(MappingException.class).hasMessageContaining("then()");
		assertThat(catchThrowable(() -> db.sql("select 1 as id").mapTo(List.class)))
				.isInstanceOf(MappingException.class).hasMessageContaining("collections are not mapped");
		assertThat(counting.acquired()).isZero();
	}

	@Test
	void aValueTheServerQuotesStaysOutOfMessagesAndCausesByDefault() {
		db.sql(valueEchoingSql()).bind("v", VALUE).mapTo(Integer.class).one().as(StepVerifier::create)
				.expectErrorSatisfies(e -> {
					assertThat(e).isInstanceOf(DataIntegrityViolationException.class);
					assertThat(((DataAccessException) e).sqlState()).startsWith("22");
					assertThat(e.getMessage()).contains(valueEchoingSql());
					assertNoSecret(e, VALUE);
				})
				.verify(TIMEOUT);
		Database.builder(counting).serverErrorDetail(true).build()
				.sql(valueEchoingSql()).bind("v", VALUE).mapTo(Integer.class).one().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(DataIntegrityViolationException.class)
						.hasMessageContaining(VALUE))
				.verify(TIMEOUT);
	}

	// ---------------------------------------------------------------- REQUIRES_NEW

	@Test
	void requiresNewReportsThePoolsTimeoutWhenItFiresFirstAndItsOwnWaitIsSetOnTheBuilder() {
		TetherPool one = TetherPool.create(database().connectionFactory(),
				PoolSettings.builder().maxSize(1).minIdle(1).acquireTimeout(Duration.ofMillis(200)).build());
		try {
			// Opened beforehand, so that only the second acquisition can time out.
			one.warmup().block(TIMEOUT);
			Database small = Database.of(one);
			TransactionOptions requiresNew = TransactionOptions.of(Propagation.REQUIRES_NEW);
			small.inTransaction(small.sql("select 1").then().then(small.inTransaction(requiresNew, small.sql("select 2").then())))
					.as(StepVerifier::create)
					.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConnectionUnavailableException.class)
							.hasMessageContaining("the pool gave up first: Connection not available: timed out after 200ms")
							.hasMessageNotContaining("10000ms"))
					.verify(TIMEOUT);

			TetherPool unlimited = TetherPool.create(database().connectionFactory(),
					PoolSettings.builder().maxSize(1).acquireTimeoutUnlimited().build());
			try {
				Database waits = Database.builder(unlimited).requiresNewAcquireTimeout(Duration.ofMillis(300))
						.scheduler(reactor.core.scheduler.Schedulers.parallel()).build();
				waits.inTransaction(waits.sql("select 1").then().then(waits.inTransaction(requiresNew, waits.sql("select 2").then())))
						.as(StepVerifier::create)
						.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConnectionUnavailableException.class)
								.hasMessageContaining("none came within 300ms (requiresNewAcquireTimeout)"))
						.verify(TIMEOUT);
			}
			finally {
				unlimited.closeLater().block(TIMEOUT);
			}
		}
		finally {
			one.closeLater().block(TIMEOUT);
		}
	}

	/**
	 * The REQUIRES_NEW wait gives up but does not cancel its acquisition, which goes on waiting in the pool. The
	 * pool closing then ends that acquisition with {@code PoolClosedException}: nobody waits for it and it holds
	 * no connection, so nothing may reach {@code onErrorDropped} (Reactor logs those at ERROR). The close starts
	 * while the outer transaction still holds the pool's only connection, so the acquisition is certainly still
	 * waiting; the race this pins down is a test closing its pool just after such a failure.
	 */
	@Test
	void aRequiresNewAcquisitionGivenUpOnEndsQuietlyWhenItsPoolCloses() {
		TetherPool unlimited = TetherPool.create(database().connectionFactory(),
				PoolSettings.builder().maxSize(1).acquireTimeoutUnlimited().build());
		List<Throwable> dropped = new java.util.concurrent.CopyOnWriteArrayList<>();
		reactor.core.publisher.Hooks.onErrorDropped(dropped::add);
		try {
			Database waits = Database.builder(unlimited).requiresNewAcquireTimeout(Duration.ofMillis(100)).build();
			TransactionOptions requiresNew = TransactionOptions.of(Propagation.REQUIRES_NEW);
			java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CompletableFuture<Void>> closing =
					new java.util.concurrent.atomic.AtomicReference<>();
			Mono<Integer> outer = waits.inTransaction(waits.sql("select 1").then()
					.then(waits.inTransaction(requiresNew, waits.sql("select 2").then()))
					.onErrorResume(ConnectionUnavailableException.class, e -> Mono.fromRunnable(
							() -> closing.set(unlimited.close(Duration.ofSeconds(10)).toFuture())))
					.then(waits.sql("select 3").mapTo(Integer.class).one()));

			outer.as(StepVerifier::create).expectNext(3).expectComplete().verify(TIMEOUT);
			Mono.fromFuture(closing.get()).block(TIMEOUT);

			assertThat(unlimited.isClosed()).isTrue();
			assertThat(unlimited.stats().acquired()).as("connections still checked out").isZero();
			assertThat(unlimited.stats().pending()).as("acquisitions still waiting").isZero();
			assertThat(dropped).as("errors dropped by the abandoned acquisition").isEmpty();
		}
		finally {
			reactor.core.publisher.Hooks.resetOnErrorDropped();
			unlimited.closeLater().block(TIMEOUT);
		}
	}

	// ---------------------------------------------------------------- secrets in URLs

	@Test
	void aPasswordInTheUrlAppearsInNoMessageCauseOrToString() {
		String good = urlWithPassword(SECRET, "");
		String scheme = good.substring(0, good.indexOf("://"));
		List<String> bad = List.of(
				good.substring("r2dbc:".length()),                                  // no r2dbc: scheme
				good.replace("@", "@bad host "),                                     // a space in the host
				scheme + "://app@127.0.0.1:5432/x?password=" + SECRET,               // the password as a query option
				good.replace(SECRET + "@", SECRET + "@x y@"));                       // an unencoded '@' and a space in it
		for (String url : bad) {
			assertNoSecret(catchThrowable(() -> Database.connect(url)), SECRET);
			assertNoSecret(catchThrowable(() -> TetherPool.create(url)), SECRET);
			assertNoSecret(catchThrowable(() -> PoolSettings.fromUrl(url)), SECRET);
		}
		assertThat(catchThrowable(() -> PoolSettings.fromUrl(good.substring("r2dbc:".length()))))
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessageContaining("does not start with the r2dbc scheme")
				.hasNoCause();
		try (Database ok = Database.connect(good)) {
			assertThat(ok.toString()).doesNotContain(SECRET);
			assertThat(ok.connectionFactory().toString()).doesNotContain(SECRET);
			assertThat(((TetherPool) ok.connectionFactory()).settings().toString()).doesNotContain(SECRET);
			ok.sql("select 1").mapTo(Integer.class).one().as(StepVerifier::create).expectNext(1).verifyComplete();
		}
	}

	/** Neither {@code e}'s messages nor those of its causes and suppressed exceptions, nor their {@code toString()}, contain {@code secret}. */
	static void assertNoSecret(Throwable e, String secret) {
		assertThat(e).as("an exception").isNotNull();
		StringWriter trace = new StringWriter();
		e.printStackTrace(new PrintWriter(trace));
		assertThat(trace.toString()).as("the stack trace, with causes and suppressed exceptions").doesNotContain(secret);
		Set<Throwable> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
		List<Throwable> todo = new ArrayList<>(List.of(e));
		while (!todo.isEmpty()) {
			Throwable t = todo.remove(todo.size() - 1);
			if (t == null || !seen.add(t)) {
				continue;
			}
			assertThat(String.valueOf(t.getMessage())).doesNotContain(secret);
			assertThat(String.valueOf(t.getLocalizedMessage())).doesNotContain(secret);
			assertThat(t.toString()).doesNotContain(secret);
			todo.add(t.getCause());
			todo.addAll(List.of(t.getSuppressed()));
		}
	}

	/** What a {@code select 1} on {@code db} fails with under a retry of up to 3 times while the error is transient. */
	static Throwable retryingWhileTransient(Database db, AtomicInteger attempts) {
		return catchThrowable(() -> Mono.defer(() -> {
					attempts.incrementAndGet();
					return db.sql("select 1").mapTo(Integer.class).one();
				})
				.retryWhen(Retry.max(3).filter(e -> e instanceof DataAccessException d && d.isTransient()))
				.block(TIMEOUT));
	}

	static String unique(String prefix) {
		return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
	}
}
