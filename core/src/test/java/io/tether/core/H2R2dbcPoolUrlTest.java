package io.tether.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * {@link Database#connect(String)} with an {@code r2dbc:pool:} URL: r2dbc-pool's {@link ConnectionPool},
 * configured by r2dbc-pool's own option names, closed with the database; Tether-only options are refused.
 */
class H2R2dbcPoolUrlTest {

	static final Duration TIMEOUT = Duration.ofSeconds(30);

	static String url(String options) {
		return "r2dbc:pool:h2:mem:///poolurl_" + UUID.randomUUID().toString().replace("-", "")
				+ "?options=DB_CLOSE_DELAY=-1" + options;
	}

	@Test
	void anR2dbcPoolUrlGivesR2dbcPoolWithItsOptionsAndCloseDisposesIt() {
		Database db = Database.connect(url("&maxSize=3&initialSize=2&maxIdleTime=PT1M&maxAcquireTime=PT5S"
				+ "&validationQuery=SELECT%201"));
		ConnectionPool pool = (ConnectionPool) db.connectionFactory();
		PoolMetrics metrics = pool.getMetrics().orElseThrow();
		assertThat(metrics.getMaxAllocatedSize()).as("maxSize from the URL").isEqualTo(3);
		db.sql("select :n + 1").bind("n", 41).mapTo(Integer.class).one()
				.as(StepVerifier::create).expectNext(42).expectComplete().verify(TIMEOUT);
		assertThat(metrics.allocatedSize()).as("initialSize from the URL").isEqualTo(2);
		db.inTransaction(db.sql("select 1").mapTo(Integer.class).one())
				.as(StepVerifier::create).expectNext(1).expectComplete().verify(TIMEOUT);
		assertThat(metrics.acquiredSize()).isZero();
		db.close();
		assertThat(db.isClosed()).isTrue();
		assertThat(pool.isDisposed()).as("the database created the pool, so its close disposes it").isTrue();
	}

	@Test
	void aTetherOnlyPoolOptionInAnR2dbcPoolUrlIsRefusedWithR2dbcPoolsName() {
		assertThatIllegalArgumentException().isThrownBy(() -> Database.connect(url("&maxSize=2&acquireTimeout=2s")))
				.withMessageContaining("acquireTimeout (r2dbc-pool's is maxAcquireTime)")
				.withMessageContaining("drop 'pool:'");
		assertThatIllegalArgumentException().isThrownBy(() -> Database.connect(url("&leakDetectionThreshold=10s&initSql=select%201")))
				.withMessageContaining("initSql")
				.withMessageContaining("leakDetectionThreshold");
	}

	@Test
	void anR2dbcPoolUrlWithoutADriverIsRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> Database.connect("r2dbc:pool://localhost/db"))
				.withMessageContaining("r2dbc:pool:postgresql://");
	}
}
