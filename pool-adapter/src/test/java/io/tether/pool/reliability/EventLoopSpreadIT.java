package io.tether.pool.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Wrapped;
import io.tether.pool.TetherPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * reactor-netty keeps a connection on the event loop of the thread that opened it. The pool opens its
 * connections one after another, each from the thread where the previous one arrived, which is an event loop:
 * unless the pool opens them from elsewhere, every connection of the pool lands on one loop and one thread
 * does the I/O of the whole pool. r2dbc-postgresql exposes a connection's event loop as
 * {@code unwrap(Scheduler.class)}; the test asks each connection's loop for its thread name.
 */
class EventLoopSpreadIT extends ReliabilitySuite {

	private static final int SIZE = 4;

	@Test
	void connectionsOpenedByWarmupSpreadOverEventLoops() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "loops", s -> s.maxSize(SIZE).minIdle(SIZE))) {
			assertThat(PoolUnderTest.within(p.pool.warmup(), PoolUnderTest.GUARD)).isEqualTo(SIZE);
			assertThat(loopsOf(p.pool)).as("event loops of the %d connections", SIZE).hasSizeGreaterThan(1);
		}
	}

	@Test
	void connectionsOpenedOnDemandFromAnEventLoopSpreadOverEventLoops() {
		try (PoolUnderTest p = PoolUnderTest.direct(pg, "loops-demand", s -> s.maxSize(SIZE))) {
			// Each acquisition is subscribed from the event loop where the previous connection's query answer
			// arrived, as in a server where a request handler runs on an event loop.
			Mono<Integer> chain = Mono.just(0);
			List<Connection> held = new ArrayList<>();
			for (int i = 0; i < SIZE; i++) {
				chain = chain.flatMap(n -> p.pool.create().flatMap(c -> {
					synchronized (held) {
						held.add(c);
					}
					return PoolUnderTest.pidOf(c).thenReturn(n + 1);
				}));
			}
			assertThat(PoolUnderTest.within(chain, PoolUnderTest.GUARD)).isEqualTo(SIZE);
			Set<String> loops = new TreeSet<>();
			for (Connection c : held) {
				loops.add(loopOf(c));
			}
			PoolUnderTest.complete(Flux.fromIterable(held).concatMap(Connection::close).then(), PoolUnderTest.GUARD);
			assertThat(loops).as("event loops of the %d connections", SIZE).hasSizeGreaterThan(1);
		}
	}

	/** Checks out every connection of {@code pool}, reads its event loop, and gives them all back. */
	private static Set<String> loopsOf(TetherPool pool) {
		List<Connection> held = new ArrayList<>();
		Set<String> loops = new TreeSet<>();
		try {
			for (int i = 0; i < SIZE; i++) {
				Connection c = PoolUnderTest.within(pool.create(), PoolUnderTest.GUARD);
				held.add(c);
				loops.add(loopOf(c));
			}
		}
		finally {
			PoolUnderTest.complete(Flux.fromIterable(held).concatMap(Connection::close).then(), PoolUnderTest.GUARD);
		}
		return loops;
	}

	private static String loopOf(Connection pooled) {
		Object physical = ((Wrapped<?>) pooled).unwrap();
		Scheduler loop = Objects.requireNonNull(((Wrapped<?>) Objects.requireNonNull(physical)).unwrap(Scheduler.class),
				"the driver exposes no event loop");
		return PoolUnderTest.within(Mono.fromCallable(() -> Thread.currentThread().getName()).subscribeOn(loop),
				Duration.ofSeconds(30));
	}
}
