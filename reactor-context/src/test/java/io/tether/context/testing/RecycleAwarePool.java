package io.tether.context.testing;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * An r2dbc-pool whose {@link #disposeLater()} first waits until no thread is still recycling a released
 * connection, so the suites can close it right after a release.
 *
 * <p>Why: reactor-pool's {@code SimpleDequePool.maybeRecycleAndDrain} (1.2.6, unchanged on its main
 * branch) puts the released connection back as a new idle slot, signals the release complete, runs
 * {@code drain()}, and only then checks {@code isDisposed() && slot.markDestroy()} on the slot it queued.
 * While that thread is inside {@code drain()} (which can serve other threads' acquisitions for as long as
 * they keep coming, with the whole pipeline nested on it), another borrower can take that slot and release
 * it again; the slot object is then RELEASED, which {@code markDestroy()} accepts. If the pool is disposed
 * before the first thread gets to the check, the connection is destroyed twice: dispose destroys the
 * current idle slot, the stale check destroys the old one. The second destroy returns a permit the pool
 * never granted ({@code "Too many permits returned: returned=1, would bring to 5/4"}, thrown out of
 * {@code disposeLater()} or dropped to {@code onErrorDropped}), prints "unexpected decrement below 0" and
 * would close the connection a second time (it fails on the permit count first).
 *
 * <p>The recycling runs inside the release handler's {@code onComplete}, so a release handler whose
 * {@code doFinally} runs after that call has returned marks exactly when a thread has left it. r2dbc-pool
 * sets no release handler of its own (its {@code PooledConnection} does the cleanup before releasing).
 */
final class RecycleAwarePool extends ConnectionPool {

	private static final Duration WAIT_LIMIT = Duration.ofSeconds(10);

	private final AtomicInteger recycling;

	private RecycleAwarePool(ConnectionPoolConfiguration.Builder builder, AtomicInteger recycling) {
		super(builder.customizer(pool -> pool.releaseHandler(connection -> Mono.<Void>fromRunnable(recycling::incrementAndGet)
				.doFinally(signal -> recycling.decrementAndGet()))).build());
		this.recycling = recycling;
	}

	static ConnectionPool create(ConnectionPoolConfiguration.Builder builder) {
		return new RecycleAwarePool(builder, new AtomicInteger());
	}

	/** Releases whose thread is still inside the pool's recycling. */
	int recycling() {
		return recycling.get();
	}

	@Override
	public Mono<Void> disposeLater() {
		return Mono.defer(() -> recycling.get() == 0 ? Mono.<Void>empty()
						: Mono.<Void>error(new IllegalStateException(recycling.get() + " release(s) still recycling")))
				.retryWhen(Retry.fixedDelay(WAIT_LIMIT.toMillis(), Duration.ofMillis(1)))
				.onErrorMap(e -> new AssertionError("a release was still inside the pool after " + WAIT_LIMIT, e))
				.then(Mono.defer(super::disposeLater));
	}
}
