package io.tether.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.tether.pool.TetherPool;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** {@link Database#connect(String)}: the pool it creates, its settings from the URL, and closing it. */
class H2DatabaseConnectTest {

	static final Duration TIMEOUT = Duration.ofSeconds(30);

	static String url(String options) {
		return "r2dbc:h2:mem:///connect_" + UUID.randomUUID().toString().replace("-", "") + "?options=DB_CLOSE_DELAY=-1" + options;
	}

	@Test
	void connectCreatesATetherPoolThatCloseCloses() {
		Database db = Database.connect(url("&maxSize=3"));
		TetherPool pool = (TetherPool) db.connectionFactory();
		assertThat(pool.settings().maxSize()).isEqualTo(3);
		db.sql("select 1").mapTo(Integer.class).one().as(StepVerifier::create).expectNext(1).verifyComplete();
		assertThat(pool.stats().acquired()).isZero();
		db.close();
		assertThat(db.isClosed()).isTrue();
		assertThat(pool.isClosed()).isTrue();
	}

	@Test
	void anExhaustedPoolIsATransientConnectionFailureThatNamesThePoolState() {
		try (Database db = Database.connect(url("&maxSize=1&acquireTimeout=100ms"))) {
			Sinks.Empty<Void> release = Sinks.empty();
			Sinks.Empty<Void> holding = Sinks.empty();
			// One pipeline holds the only connection until told to let go.
			Mono<Void> holder = db.inConnection(db.sql("select 1").then().then(Mono.fromRunnable(holding::tryEmitEmpty))
					.then(release.asMono()));
			StepVerifier.create(holder)
					.then(() -> holding.asMono().block(TIMEOUT))
					.then(() -> db.sql("select 2").mapTo(Integer.class).one().as(StepVerifier::create)
							.expectErrorSatisfies(e -> {
								assertThat(e).isInstanceOf(ConnectionFailureException.class)
										.hasMessageContaining("Connection not available: timed out after 100ms")
										.hasMessageContaining("max=1, acquired=1");
								assertThat(((DataAccessException) e).isTransient()).isTrue();
							})
							.verify(TIMEOUT))
					.then(release::tryEmitEmpty)
					.verifyComplete();
			assertThat(((TetherPool) db.connectionFactory()).stats().acquired()).isZero();
		}
	}

	@Test
	void aBadPoolSettingInTheUrlIsReportedAndNothingIsLeftOpen() {
		assertThatIllegalArgumentException().isThrownBy(() -> Database.connect(url("&maxSize=0")))
				.withMessageContaining("maxSize");
	}

	@Test
	void aDriverWithUnknownBindMarkersIsRefusedNamingTheWayOut() {
		// No driver of unknown syntax is on the test class path, so the check that Database.connect runs before the
		// pool exists is tested on its own; an unknown driver is refused even earlier (ErrorContract).
		assertThatIllegalArgumentException().isThrownBy(() -> BindMarkerStyle.forDriver("acme"))
				.withMessageContaining("'acme'")
				.withMessageContaining("bindMarkers");
	}

	@Test
	void closeRefusesToBlockAnEventLoop() {
		Database db = Database.connect(url(""));
		try {
			Mono.fromCallable(() -> {
				db.close();
				return "closed";
			}).subscribeOn(reactor.core.scheduler.Schedulers.parallel())
					.as(StepVerifier::create)
					.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class).hasMessageContaining("closeLater()"))
					.verify(TIMEOUT);
			assertThat(db.isClosed()).isFalse();
		}
		finally {
			db.closeLater().block(TIMEOUT);
		}
	}
}
