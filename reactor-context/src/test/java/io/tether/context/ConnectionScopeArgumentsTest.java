package io.tether.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.IsolationLevel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Argument checks of {@link ConnectionScope}, its builder and {@link TransactionOptions}: they fail at the
 * call, not at subscription, with the parameter's name or the observed value in the message. No database:
 * the factory only counts {@code create()} calls, which must stay at zero.
 */
class ConnectionScopeArgumentsTest {

	private final AtomicInteger creates = new AtomicInteger();

	private final ConnectionFactory factory = new ConnectionFactory() {
		@Override
		public Publisher<? extends Connection> create() {
			creates.incrementAndGet();
			return Mono.error(new IllegalStateException("no database in this test"));
		}

		@Override
		public ConnectionFactoryMetadata getMetadata() {
			return () -> "Stub";
		}
	};

	private final ConnectionScope scope = ConnectionScope.builder(factory).name("args").build();

	/** A null factory is rejected by of() and builder(). */
	@Test
	void nullFactoryIsRejected() {
		assertThatNullPointerException().isThrownBy(() -> ConnectionScope.of(null)).withMessageContaining("factory");
		assertThatNullPointerException().isThrownBy(() -> ConnectionScope.builder(null)).withMessageContaining("factory");
	}

	/** A null body of inConnection / inLazyConnection / inTransaction, Mono and Publisher flavours, names "body". */
	@Test
	void nullBodyIsRejectedNamingTheParameter() {
		assertThatNullPointerException().isThrownBy(() -> scope.inConnection((Mono<Object>) null)).withMessageContaining("body");
		assertThatNullPointerException().isThrownBy(() -> scope.inConnection((Publisher<Object>) null)).withMessageContaining("body");
		assertThatNullPointerException().isThrownBy(() -> scope.inLazyConnection((Mono<Object>) null)).withMessageContaining("body");
		assertThatNullPointerException().isThrownBy(() -> scope.inLazyConnection((Publisher<Object>) null)).withMessageContaining("body");
		assertThatNullPointerException().isThrownBy(() -> scope.inTransaction((Mono<Object>) null)).withMessageContaining("body");
		assertThatNullPointerException().isThrownBy(() -> scope.inTransaction((Publisher<Object>) null)).withMessageContaining("body");
		assertThatNullPointerException()
				.isThrownBy(() -> scope.inTransaction(TransactionOptions.defaults(), (Mono<Object>) null))
				.withMessageContaining("body");
		assertThatNullPointerException()
				.isThrownBy(() -> scope.inTransaction(TransactionOptions.defaults(), (Publisher<Object>) null))
				.withMessageContaining("body");
		assertThat(creates).hasValue(0);
	}

	/** A null fn of withConnection / withConnectionMany names "fn". */
	@Test
	void nullFnIsRejectedNamingTheParameter() {
		assertThatNullPointerException()
				.isThrownBy(() -> scope.withConnection((Function<Connection, Mono<Object>>) null))
				.withMessageContaining("fn");
		assertThatNullPointerException()
				.isThrownBy(() -> scope.withConnectionMany((Function<Connection, Publisher<Object>>) null))
				.withMessageContaining("fn");
		assertThat(creates).hasValue(0);
	}

	/** Null options of inTransaction, Mono and Publisher flavours, name "options". */
	@Test
	void nullOptionsAreRejectedNamingTheParameter() {
		assertThatNullPointerException().isThrownBy(() -> scope.inTransaction(null, Mono.just(1)))
				.withMessageContaining("options");
		assertThatNullPointerException().isThrownBy(() -> scope.inTransaction(null, Flux.just(1)))
				.withMessageContaining("options");
		assertThat(creates).hasValue(0);
	}

	/** The builder rejects a null or blank name, quoting the value it saw. */
	@Test
	void builderRejectsNullAndBlankNames() {
		ConnectionScope.Builder b = ConnectionScope.builder(factory);
		assertThatNullPointerException().isThrownBy(() -> b.name(null)).withMessageContaining("name");
		assertThatIllegalArgumentException().isThrownBy(() -> b.name(""))
				.withMessageContaining("name")
				.withMessageContaining("''");
		assertThatIllegalArgumentException().isThrownBy(() -> b.name(" \t"))
				.withMessageContaining("name")
				.withMessageContaining("' \t'");
	}

	/** The builder rejects a zero or negative requiresNewAcquireTimeout, quoting the value it saw, and a null one. */
	@Test
	void builderRejectsNonPositiveTimeouts() {
		ConnectionScope.Builder b = ConnectionScope.builder(factory);
		assertThatIllegalArgumentException().isThrownBy(() -> b.requiresNewAcquireTimeout(Duration.ZERO))
				.withMessageContaining("requiresNewAcquireTimeout")
				.withMessageContaining("PT0S");
		assertThatIllegalArgumentException().isThrownBy(() -> b.requiresNewAcquireTimeout(Duration.ofMillis(-5)))
				.withMessageContaining("requiresNewAcquireTimeout")
				.withMessageContaining("PT-0.005S");
		assertThatNullPointerException().isThrownBy(() -> b.requiresNewAcquireTimeout(null)).withMessageContaining("timeout");
		assertThatNullPointerException().isThrownBy(() -> b.scheduler(null)).withMessageContaining("scheduler");
		assertThatNoException().isThrownBy(() -> b.requiresNewAcquireTimeout(Duration.ofNanos(1)));
	}

	/** The builder rejects a negative or null drainBudget; zero (ask the server at once) is allowed. */
	@Test
	void builderRejectsANegativeDrainBudget() {
		ConnectionScope.Builder b = ConnectionScope.builder(factory);
		assertThatIllegalArgumentException().isThrownBy(() -> b.drainBudget(Duration.ofMillis(-1)))
				.withMessageContaining("drainBudget")
				.withMessageContaining("PT-0.001S");
		assertThatNullPointerException().isThrownBy(() -> b.drainBudget(null)).withMessageContaining("budget");
		assertThatNoException().isThrownBy(() -> b.drainBudget(Duration.ZERO));
	}

	/** The scope's name is the configured one, else the driver name; building calls nothing on the factory. */
	@Test
	void nameIsConfiguredOrDerivedFromTheDriver() {
		assertThat(scope.name()).isEqualTo("args");
		assertThat(scope.toString()).contains("args");
		assertThat(scope.factory()).isSameAs(factory);
		assertThat(ConnectionScope.of(factory).name()).startsWith("Stub@");
		assertThat(creates).hasValue(0);
	}

	/** TransactionOptions.builder() rejects a null propagation and a blank name, quoting the value. */
	@Test
	void transactionOptionsRejectNullPropagationAndBlankName() {
		assertThatNullPointerException().isThrownBy(() -> TransactionOptions.builder().propagation(null))
				.withMessageContaining("propagation");
		assertThatNullPointerException().isThrownBy(() -> TransactionOptions.of(null))
				.withMessageContaining("propagation");
		assertThatIllegalArgumentException().isThrownBy(() -> TransactionOptions.builder().name(" "))
				.withMessageContaining("name")
				.withMessageContaining("' '");
		assertThatNoException().isThrownBy(() -> TransactionOptions.builder().name(null).isolationLevel(null).build());
	}

	/** TransactionOptions: lockWaitTimeout must be >= 0 (zero allowed), statementTimeout > 0; both nullable. */
	@Test
	void transactionOptionsRangeChecks() {
		assertThatIllegalArgumentException()
				.isThrownBy(() -> TransactionOptions.builder().lockWaitTimeout(Duration.ofSeconds(-1)))
				.withMessageContaining("lockWaitTimeout")
				.withMessageContaining("PT-1S");
		assertThatIllegalArgumentException()
				.isThrownBy(() -> TransactionOptions.builder().statementTimeout(Duration.ZERO))
				.withMessageContaining("statementTimeout")
				.withMessageContaining("PT0S");
		assertThatIllegalArgumentException()
				.isThrownBy(() -> TransactionOptions.builder().statementTimeout(Duration.ofSeconds(-2)))
				.withMessageContaining("statementTimeout")
				.withMessageContaining("PT-2S");

		TransactionOptions edge = TransactionOptions.builder()
				.lockWaitTimeout(Duration.ZERO)
				.statementTimeout(Duration.ofMillis(1))
				.isolationLevel(IsolationLevel.SERIALIZABLE)
				.readOnly(true)
				.name("tx")
				.build();
		assertThat(edge.lockWaitTimeout()).isEqualTo(Duration.ZERO);
		assertThat(edge.statementTimeout()).isEqualTo(Duration.ofMillis(1));
		assertThat(edge.toBuilder().build()).isEqualTo(edge).hasSameHashCodeAs(edge);

		TransactionOptions unset = TransactionOptions.builder().lockWaitTimeout(null).statementTimeout(null).build();
		assertThat(unset).isEqualTo(TransactionOptions.defaults());
		assertThat(unset.propagation()).isEqualTo(Propagation.REQUIRED);
	}
}
