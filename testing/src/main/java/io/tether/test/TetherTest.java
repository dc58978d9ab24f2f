package io.tether.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Runs a JUnit 5 test class against a database, and fails any test that leaves a connection acquired or a
 * transaction open.
 *
 * <pre>{@code
 * @TetherTest(schema = "schema.sql", rollback = true)
 * class UserRepositoryTest {
 *
 *     @Test
 *     void registers(Database db, Rollback rollback) {
 *         UserRepository users = new UserRepository(db);
 *         StepVerifier.create(rollback.run(users.register("a@example.com").then(users.count())))
 *             .expectNext(1L)
 *             .verifyComplete();
 *     }
 * }
 * }</pre>
 *
 * <h2>What the test gets</h2>
 * Test methods, constructors and lifecycle methods may declare parameters, and the test class non-static
 * fields left {@code null}, of these types: {@link io.tether.core.Database} (over the recorder below),
 * {@link Rollback} (a view of that database), {@link RecordingConnectionFactory} (what the test did),
 * {@link io.tether.pool.TetherPool} or, with {@link #pool()} {@link TestPool#R2DBC_POOL}, r2dbc-pool's
 * {@code io.r2dbc.pool.ConnectionPool} (the pool behind). They are created once per test class (for the outermost
 * annotated class of {@code @Nested} classes): a pool ({@link #pool()}) of {@link #poolSize()}
 * connections over {@link #database()}, with the {@link #schema()} scripts run on it, then a
 * {@link RecordingConnectionFactory} in front of the pool and a {@code Database} over the recorder. They are
 * closed after the class (for H2, the in-memory database is dropped).
 *
 * <h2>What is checked after each test</h2>
 * After every test the recorder is checked, then reset for the next test. The test fails if:
 * <ul>
 *   <li>a connection it acquired is still acquired (after waiting up to {@link #releaseWaitMillis()} for releases
 *       running in the background, e.g. after a cancel); the failure names where each was acquired, and carries
 *       the acquisition stacks. Such connections are then closed, so the next test starts clean;</li>
 *   <li>a transaction is still open on a connection it acquired, or a connection was released twice;</li>
 *   <li>with {@link #rollback()}: anything committed outside {@link Rollback};</li>
 *   <li>with {@link #strict()}: a connection was acquired outside the pipelines handed to {@link Rollback} or a
 *       {@link PipelineProbe}, which is how code that lost the Reactor Context ({@code toFuture()}, a hand-made
 *       {@code subscribe()}) shows.</li>
 * </ul>
 * If the test itself failed, these findings are added to its failure as suppressed exceptions.
 *
 * <p>The tests of one class run one at a time ({@link ExecutionMode#SAME_THREAD}), since the checks are per
 * test; test classes may run in parallel, each with its own database and pool.
 *
 * @since 0.1
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(TetherExtension.class)
@Execution(ExecutionMode.SAME_THREAD)
public @interface TetherTest {

	/** The database: embedded {@link TestDatabase#H2} (default), or {@link TestDatabase#POSTGRES}. */
	TestDatabase database() default TestDatabase.H2;

	/**
	 * Classpath resources (e.g. {@code "schema.sql"} or {@code "db/users.sql"}) run in order, once per test
	 * class, before its first test and outside the recorder. Statements are split at semicolons outside quotes,
	 * comments and dollar-quoted bodies, and each runs as is (no named parameters).
	 */
	String[] schema() default {};

	/**
	 * Whether every test must leave the database as it found it: the test fails if a transaction was committed
	 * or a statement that may change data ran in auto-commit mode. Run the test's pipelines through the
	 * {@link Rollback} parameter (or {@link Rollback#rollbackAfter}) and nothing commits.
	 */
	boolean rollback() default false;

	/**
	 * Whether every connection must be acquired inside a pipeline handed to {@link Rollback} or a
	 * {@link PipelineProbe}: the test fails for one acquired outside, by a subscription without the pipeline's
	 * Reactor Context.
	 */
	boolean strict() default false;

	/**
	 * The pool between the database and the recorder: Tether's {@link TestPool#TETHER} (default) or r2dbc-pool's
	 * {@link TestPool#R2DBC_POOL}; the checks after each test are the same.
	 */
	TestPool pool() default TestPool.TETHER;

	/** The pool's maximum size; default 4. */
	int poolSize() default 4;

	/** How long, after a test, to wait for releases still running in the background before failing; default 2000. */
	long releaseWaitMillis() default 2000;
}
