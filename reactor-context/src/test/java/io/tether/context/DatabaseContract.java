package io.tether.context;

import static io.tether.context.testing.CountingConnectionFactory.update;

import io.r2dbc.pool.ConnectionPool;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Database;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import reactor.core.publisher.Mono;

/**
 * What every database contract suite starts from: a pool on {@link #database()}, a
 * {@link CountingConnectionFactory} in front of it, a {@link ConnectionScope} over that, and a fresh table
 * {@code table (id INT PRIMARY KEY, v VARCHAR(50))}. After each test it proves that every connection
 * acquired was released exactly once and the pool is fully returned, then drops the table.
 */
abstract class DatabaseContract {

	/** Bound on the fixture's own blocking set-up and clean-up, so a hang fails instead of stalling the build. */
	static final Duration FIXTURE_TIMEOUT = Duration.ofSeconds(30);

	protected ConnectionPool pool;
	protected CountingConnectionFactory counting;
	protected ConnectionScope scope;
	protected String table;

	abstract Database database();

	/** Maximum size of the pool; 4 unless a suite needs one connection per concurrent pipeline. */
	int poolSize() {
		return 4;
	}

	@BeforeEach
	void openDatabase() {
		pool = database().pool(poolSize());
		counting = new CountingConnectionFactory(pool);
		scope = ConnectionScope.builder(counting).name(database().name().toLowerCase()).build();
		table = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
		scope.withConnection(c -> update(c, "CREATE TABLE " + table + " (id INT PRIMARY KEY, v VARCHAR(50))"))
				.block(FIXTURE_TIMEOUT);
	}

	@AfterEach
	void closeDatabase() {
		try {
			Leaks.assertAllReleased(counting, pool);
		}
		finally {
			// A test that failed while holding a stage must not hang the clean-up.
			counting.beforeAcquire(Mono::empty);
			counting.beforeBegin(Mono::empty);
			counting.beforeCommit(Mono::empty);
			counting.beforeRollback(Mono::empty);
			scope.withConnection(c -> update(c, "DROP TABLE " + table)).onErrorResume(e -> Mono.empty())
					.block(FIXTURE_TIMEOUT);
			pool.disposeLater().block(FIXTURE_TIMEOUT);
		}
	}
}
