package io.tether.pool.internal;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ValidationDepth;
import io.tether.pool.PoolAcquireTimeoutException;
import io.tether.pool.PoolClosedException;
import io.tether.pool.PoolListener;
import io.tether.pool.PoolPendingLimitException;
import io.tether.pool.PoolSettings;
import io.tether.pool.PoolStats;
import io.tether.pool.TetherPool;
import io.tether.pool.ValidationMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.pool.InstrumentedPool;
import reactor.pool.PoolAcquirePendingLimitException;
import reactor.pool.PoolBuilder;
import reactor.pool.PoolShutdownException;
import reactor.pool.PooledRef;
import reactor.pool.PooledRefMetadata;

/**
 * The pool behind {@link TetherPool}: a reactor-pool {@link InstrumentedPool} of
 * {@link PhysicalConnection}s, plus what reactor-pool does not do itself: init SQL once per physical
 * connection, validation on checkout, a cap on idle connections, uses per connection, broken-connection
 * detection, leak detection, keep-alive, minIdle top-up, statistics, listeners and a graceful close.
 */
public final class PoolEngine {

	/** Logger of every pool message, named after the public class as the documentation says. */
	static final Logger LOG = LoggerFactory.getLogger(TetherPool.class);

	private static final Duration DESTROY_TIMEOUT = Duration.ofSeconds(10);

	private static final int OPEN = 0;
	private static final int CLOSING = 1;
	private static final int CLOSED = 2;

	private final ConnectionFactory target;
	private final PoolSettings settings;
	private final String name;
	private final Scheduler scheduler;
	private final InstrumentedPool<PhysicalConnection> pool;
	private final Random jitter = new Random();
	private final AtomicLong ids = new AtomicLong();
	private final List<PoolListener> listeners = new CopyOnWriteArrayList<>();

	private final Set<PooledConnection> held = ConcurrentHashMap.newKeySet();
	private final Set<Acquisition.Run> acquiring = ConcurrentHashMap.newKeySet();
	private final Set<PhysicalConnection> live = ConcurrentHashMap.newKeySet();
	/** Releases, keep-alive checkouts and connection opens under way; close waits for them. */
	private final AtomicInteger inFlight = new AtomicInteger();
	/**
	 * Threads still inside reactor-pool's recycling of a released connection; close waits for them too.
	 * reactor-pool signals a release complete and runs {@code drain()} (which can hand the connection to a
	 * waiting borrower, who may return it) before it checks {@code isDisposed() && slot.markDestroy()} on
	 * the slot it queued; a dispose in between destroys that connection twice. The recycling runs inside the
	 * release handler's {@code onComplete}, so the handler's {@code doFinally} marks when it is over, also
	 * when the release itself ran on a driver thread after an asynchronous rollback.
	 */
	private final AtomicInteger recycling = new AtomicInteger();
	private final Mono<Void> recycleMark = Mono.<Void>fromRunnable(recycling::incrementAndGet)
			.doFinally(signal -> {
				recycling.decrementAndGet();
				checkDrained();
			});

	private final LongAdder acquireCount = new LongAdder();
	private final LongAdder timeouts = new LongAdder();
	private final LongAdder leaks = new LongAdder();
	private final LongAdder evictions = new LongAdder();
	private final LongAdder validationFailures = new LongAdder();
	private final LongAdder invalidations = new LongAdder();

	private final AtomicInteger state = new AtomicInteger(OPEN);
	private final AtomicBoolean closeStarted = new AtomicBoolean();
	private final Sinks.Empty<Void> drained = Sinks.empty();
	private final Sinks.Empty<Void> closed = Sinks.empty();
	private final AtomicBoolean housekeeping = new AtomicBoolean();
	// connections idle in the pool or on their way there, as counted for maxIdle; counted only when maxIdle caps
	// anything (below maxSize), so the default configuration pays nothing per checkout
	private final boolean idleCapped;
	private final java.util.concurrent.atomic.AtomicInteger idleCounted = new java.util.concurrent.atomic.AtomicInteger();
	private final Disposable.Swap housekeeper = Disposables.swap();
	private volatile @Nullable Thread shutdownHook;

	public PoolEngine(ConnectionFactory target, PoolSettings settings) {
		this.target = target;
		this.settings = settings;
		this.idleCapped = settings.maxIdle() < settings.maxSize();
		this.name = settings.name();
		this.scheduler = settings.scheduler();
		IdleTopUpAllocationStrategy strategy = new IdleTopUpAllocationStrategy(settings.maxSize(), settings.minIdle(), LOG);
		boolean failFast = !settings.acquireTimeoutUnlimited() && settings.acquireTimeout().isZero();
		int maxPending = failFast ? 0
				: settings.maxPendingAcquires() == Integer.MAX_VALUE ? -1 : settings.maxPendingAcquires();
		Duration period = housekeepingPeriod(settings);
		this.pool = PoolBuilder.from(Mono.defer(this::open))
				.allocationStrategy(strategy)
				.maxPendingAcquire(maxPending)
				.destroyHandler(this::destroy)
				.releaseHandler(c -> recycleMark)
				.evictionPredicate(this::shouldEvict)
				.evictInBackground(period, scheduler)
				.clock(settings.clock())
				.idleResourceReuseLruOrder()
				.buildPool();
		strategy.idleCount(() -> pool.metrics().idleSize());
		try {
			housekeeper.update(scheduler.schedulePeriodically(this::housekeep, period.toMillis(), period.toMillis(),
					TimeUnit.MILLISECONDS));
		}
		catch (RejectedExecutionException e) {
			LOG.warn("Pool '{}': the scheduler rejects periodic tasks, so minIdle top-up and keep-alive are off", name, e);
		}
		if (settings.registerShutdownHook()) {
			Thread hook = new Thread(this::closeAtExit, "tether-pool-" + name + "-shutdown");
			shutdownHook = hook;
			Runtime.getRuntime().addShutdownHook(hook);
		}
	}

	/** Background work runs at least every 30 s, and at least twice per idle time, lifetime and keep-alive interval. */
	static Duration housekeepingPeriod(PoolSettings s) {
		Duration period = Duration.ofSeconds(30);
		for (Duration d : List.of(s.maxIdleTime(), s.maxLifetime().minus(s.maxLifetimeJitter()), s.keepAliveInterval())) {
			if (!d.isZero() && !d.isNegative() && d.dividedBy(2).compareTo(period) < 0) {
				period = d.dividedBy(2);
			}
		}
		return period.compareTo(Duration.ofMillis(10)) < 0 ? Duration.ofMillis(10) : period;
	}

	// ---------------------------------------------------------------- public face

	public String name() {
		return name;
	}

	public PoolSettings settings() {
		return settings;
	}

	public ConnectionFactory target() {
		return target;
	}

	public Mono<Connection> acquire() {
		return new Acquisition(this);
	}

	public PoolStats stats() {
		InstrumentedPool.PoolMetrics m = pool.metrics();
		return new PoolStats(name, settings.maxSize(), m.allocatedSize(), Math.max(0, m.acquiredSize()), m.idleSize(),
				m.pendingAcquireSize(), acquireCount.sum(), timeouts.sum(), leaks.sum(), evictions.sum(),
				validationFailures.sum(), invalidations.sum());
	}

	public Disposable addListener(PoolListener listener) {
		listeners.add(listener);
		return () -> listeners.remove(listener);
	}

	public boolean isClosed() {
		return closeStarted.get();
	}

	/** Opens connections one at a time until {@code minIdle} are idle; emits how many it opened. */
	public Mono<Integer> warmup() {
		return Mono.defer(() -> state.get() != OPEN ? Mono.error(closedError()) : warmup(0));
	}

	private Mono<Integer> warmup(int opened) {
		return pool.warmup().flatMap(n -> n == 0 || state.get() != OPEN ? Mono.just(opened + n) : warmup(opened + n));
	}

	// ---------------------------------------------------------------- opening and destroying

	private Mono<PhysicalConnection> open() {
		long start = now();
		// Never opened from an event loop: reactor-netty drivers keep a new connection on the event loop of
		// the thread that opened it (colocation), and reactor-pool opens connections one after another from
		// the thread where the previous one arrived, so every connection of the pool landed on one event loop
		// and one core did all the I/O. From a non-blocking thread the open hops to the pool's scheduler (whose
		// threads are no event loop of the driver, so reactor-netty picks the next loop); from any other
		// thread it runs where it is, as before (a blocking driver such as H2 still opens synchronously there).
		Mono<Connection> create = Mono.from(target.create());
		if (Schedulers.isInNonBlockingThread()) {
			create = create.subscribeOn(scheduler);
		}
		return create.flatMap(connection -> runInitSql(connection)
				.then(Mono.fromCallable(() -> created(connection, start)))
				.onErrorResume(e -> Mono.from(connection.close())
						.onErrorResume(closeError -> {
							e.addSuppressed(closeError);
							return Mono.empty();
						})
						.then(Mono.error(e)))
				.doOnCancel(() -> Uncancellable.runDetached(connection.close(), () -> {
				})))
				// Counted until reactor-pool has taken the new connection (or the open failed or was cancelled),
				// so a close does not dispose the pool while an open it started is still under way: the open may
				// finish after the acquisition that asked for it gave up (a timeout, a cancel).
				.doOnSubscribe(s -> inFlight.incrementAndGet())
				.doFinally(s -> releaseDone());
	}

	private Mono<Void> runInitSql(Connection connection) {
		if (settings.initSql().isEmpty()) {
			return Mono.empty();
		}
		return Flux.fromIterable(settings.initSql())
				.concatMap(sql -> Flux.from(connection.createStatement(sql).execute()).concatMap(PoolEngine::consume))
				.then();
	}

	private PhysicalConnection created(Connection connection, long start) {
		long now = now();
		long limit = 0;
		if (!settings.maxLifetime().isZero()) {
			long jitterMillis = settings.maxLifetimeJitter().toMillis();
			long shortenBy = jitterMillis > 0 ? (long) (jitter.nextDouble() * (jitterMillis + 1)) : 0;
			limit = Math.max(1, settings.maxLifetime().toMillis() - shortenBy);
		}
		PhysicalConnection c = new PhysicalConnection(ids.incrementAndGet(), connection, now, limit);
		live.add(c);
		// A new connection goes idle (warm-up, minIdle) or to a borrower, whose checkout counts it off again.
		countIdle(c);
		LOG.debug("Pool '{}' opened {}", name, c);
		Duration took = Duration.ofMillis(now - start);
		fire(l -> l.created(took));
		return c;
	}

	private Mono<Void> destroy(PhysicalConnection c) {
		return Mono.defer(() -> {
			live.remove(c);
			uncountIdle(c);
			String reason = c.evictionReason();
			if (reason != null) {
				if (reason.equals("broken")) {
					invalidations.increment();
				}
				else if (!reason.equals("validation")) {
					evictions.increment();
				}
				Throwable cause = c.brokenBy();
				if (cause != null) {
					LOG.debug("Pool '{}' closes {} ({}: {})", name, c, reason, cause.toString());
				}
				else {
					LOG.debug("Pool '{}' closes {} ({})", name, c, reason);
				}
				fire(l -> l.evicted(reason));
			}
			else {
				LOG.debug("Pool '{}' closes {}", name, c);
			}
			return Mono.from(c.connection.close())
					.timeout(DESTROY_TIMEOUT, scheduler)
					.onErrorResume(e -> {
						LOG.debug("Pool '{}': closing {} failed: {}", name, c, e.toString());
						return Mono.empty();
					})
					.doFinally(s -> fire(PoolListener::destroyed));
		});
	}

	private boolean shouldEvict(PhysicalConnection c, PooledRefMetadata metadata) {
		if (c.evictionReason() != null) {
			return true;
		}
		if (c.isBroken()) {
			c.evictFor("broken");
			return true;
		}
		long now = now();
		if (c.lifetimeLimitMillis > 0 && now - c.createdAt >= c.lifetimeLimitMillis) {
			c.evictFor("maxLifetime");
			return true;
		}
		long maxIdle = settings.maxIdleTime().toMillis();
		if (maxIdle > 0 && now - c.lastReturnedAt >= maxIdle) {
			c.evictFor("maxIdleTime");
			return true;
		}
		if (settings.maxUses() > 0 && c.uses.get() >= settings.maxUses()) {
			c.evictFor("maxUses");
			return true;
		}
		return false;
	}

	// ---------------------------------------------------------------- acquisition

	long now() {
		return settings.clock().millis();
	}

	Scheduler scheduler() {
		return scheduler;
	}

	/** The acquire timeout in nanoseconds, 0 for none (unlimited, or fail fast which reactor-pool enforces). */
	long acquireTimeoutNanos() {
		return settings.acquireTimeoutUnlimited() ? 0 : settings.acquireTimeout().toNanos();
	}

	@Nullable Throwable captureAcquireStack() {
		return settings.leakDetectionThreshold().isZero() ? null
				: new Throwable("Connection acquired here from pool '" + name + "'");
	}

	Mono<PooledRef<PhysicalConnection>> borrow() {
		return pool.acquire();
	}

	boolean register(Acquisition.Run run) {
		if (state.get() != OPEN) {
			return false;
		}
		acquiring.add(run);
		if (state.get() != OPEN) {
			acquiring.remove(run);
			return false;
		}
		return true;
	}

	void unregister(Acquisition.Run run) {
		acquiring.remove(run);
		checkDrained();
	}

	/** The check to run before handing out {@code c}, or {@code null} for none. */
	@Nullable Publisher<Boolean> validationFor(PhysicalConnection c) {
		ValidationMode mode = settings.validation();
		if (mode == ValidationMode.NEVER) {
			return null;
		}
		if (mode == ValidationMode.ON_ACQUIRE_LOCAL) {
			return c.connection.validate(ValidationDepth.LOCAL);
		}
		long sinceActive = now() - c.lastActiveAt();
		boolean fresh = c.uses.get() == 0 && sinceActive <= settings.validationIdleThreshold().toMillis();
		if (mode == ValidationMode.ON_ACQUIRE_REMOTE) {
			return fresh ? null : remoteCheck(c);
		}
		if (sinceActive > settings.validationIdleThreshold().toMillis()) {
			return remoteCheck(c);
		}
		return c.connection.validate(ValidationDepth.LOCAL);
	}

	private Mono<Boolean> remoteCheck(PhysicalConnection c) {
		String query = settings.validationQuery();
		if (query == null) {
			return Mono.defer(() -> Mono.from(c.connection.validate(ValidationDepth.REMOTE)));
		}
		return Mono.defer(() -> Flux.from(c.connection.createStatement(query).execute())
				.concatMap(PoolEngine::consume)
				.then(Mono.just(true)));
	}

	void validated(PhysicalConnection c) {
		c.lastValidatedAt = now();
	}

	void validationFailed(PooledRef<PhysicalConnection> ref, Throwable error) {
		PhysicalConnection c = ref.poolable();
		validationFailures.increment();
		LOG.debug("Pool '{}': validation of {} failed: {}", name, c, error.toString());
		fire(l -> l.validationFailed(error));
		invalidateDetached(ref, "validation");
	}

	PooledConnection checkout(PooledRef<PhysicalConnection> ref, long startedAt, @Nullable Throwable acquiredStack) {
		long now = now();
		PhysicalConnection c = ref.poolable();
		uncountIdle(c);
		c.uses.incrementAndGet();
		c.checkedOut = true;
		PooledConnection connection = new PooledConnection(this, ref, now, acquiredStack);
		held.add(connection);
		acquireCount.increment();
		long threshold = settings.leakDetectionThreshold().toMillis();
		if (threshold > 0) {
			connection.leakTimer(scheduler.schedule(() -> leakSuspected(connection), threshold, TimeUnit.MILLISECONDS));
		}
		if (!listeners.isEmpty()) {
			Duration waited = Duration.ofMillis(Math.max(0, now - startedAt));
			fire(l -> l.acquired(waited));
		}
		return connection;
	}

	PoolAcquireTimeoutException timeoutError(long startedAt) {
		PoolStats stats = stats();
		timeouts.increment();
		Duration waited = Duration.ofMillis(Math.max(0, now() - startedAt));
		fire(l -> l.timedOut(waited));
		return new PoolAcquireTimeoutException("Connection not available: timed out after "
				+ settings.acquireTimeout().toMillis() + "ms (" + stats.describeState() + ")", stats);
	}

	PoolClosedException closedError() {
		return new PoolClosedException("Pool '" + name + "' is closed" + (state.get() == CLOSED ? "" : " (closing)")
				+ "; no connection can be acquired");
	}

	Throwable translateAcquireError(Throwable error, long startedAt) {
		if (error instanceof PoolShutdownException) {
			return closedError();
		}
		if (error instanceof PoolAcquirePendingLimitException) {
			PoolStats stats = stats();
			if (!settings.acquireTimeoutUnlimited() && settings.acquireTimeout().isZero()) {
				timeouts.increment();
				fire(l -> l.timedOut(Duration.ZERO));
				return new PoolAcquireTimeoutException("Connection not available: acquireTimeout is 0 (fail fast) and none is free ("
						+ stats.describeState() + ")", stats);
			}
			return new PoolPendingLimitException("Connection not available: " + settings.maxPendingAcquires()
					+ " acquisitions are already waiting (maxPendingAcquires=" + settings.maxPendingAcquires() + ", "
					+ stats.describeState() + ")", stats);
		}
		return error;
	}

	// ---------------------------------------------------------------- leaks

	private void leakSuspected(PooledConnection connection) {
		if (!connection.markLeakReported()) {
			return;
		}
		leaks.increment();
		Duration heldFor = Duration.ofMillis(Math.max(0, now() - connection.acquiredAt));
		Throwable stack = connection.acquiredStack;
		LOG.warn("Connection leak suspected in pool '{}': {} has been held for {}ms, longer than leakDetectionThreshold {}ms; it was acquired at:",
				name, connection.physical, heldFor.toMillis(), settings.leakDetectionThreshold().toMillis(), stack);
		fire(l -> l.leakSuspected(heldFor, stack));
	}

	// ---------------------------------------------------------------- release

	/** The release of a checkout, run once per checkout by {@link PooledConnection#close()}. */
	Mono<Void> release(PooledConnection connection) {
		inFlight.incrementAndGet();
		held.remove(connection);
		connection.stopLeakTimer();
		PhysicalConnection c = connection.physical;
		c.checkedOut = false;
		boolean leakReported = connection.leakReported();
		if (!listeners.isEmpty() || leakReported) {
			Duration heldFor = Duration.ofMillis(Math.max(0, now() - connection.acquiredAt));
			fire(l -> l.released(heldFor));
			if (leakReported) {
				LOG.info("Pool '{}': {}, earlier reported as a suspected leak, was returned after {}ms", name, c,
						heldFor.toMillis());
			}
		}
		Mono<Void> work = Mono.defer(() -> {
			if (c.isBroken()) {
				return invalidate(connection.ref, "broken");
			}
			if (connection.resultStillStreaming()) {
				c.markBroken(new IllegalStateException("closed while a result was still streaming"));
				return invalidate(connection.ref, "broken");
			}
			if (connection.operationUnanswered()) {
				// A BEGIN (or COMMIT, ROLLBACK) whose answer has not come: isAutoCommit() cannot be trusted, and
				// a transaction may open after the connection was handed to its next borrower.
				c.markBroken(new IllegalStateException("closed while a connection operation was still unanswered"));
				return invalidate(connection.ref, "broken");
			}
			return cleanup(c)
					.then(Mono.defer(() -> returnToPool(connection)))
					.onErrorResume(e -> {
						c.markBroken(e);
						LOG.debug("Pool '{}': cleaning up {} on release failed: {}", name, c, e.toString());
						return invalidate(connection.ref, "broken");
					});
		});
		return new Uncancellable(work, this::releaseDone);
	}

	/**
	 * Rolls back a transaction left open and restores auto-commit, within {@code cleanupTimeout}: a cleanup
	 * that does not finish fails, and the release destroys the connection.
	 */
	private Mono<Void> cleanup(PhysicalConnection c) {
		return Mono.defer(() -> {
			if (c.connection.isAutoCommit()) {
				return Mono.empty();
			}
			Duration limit = settings.cleanupTimeout();
			return Mono.from(c.connection.rollbackTransaction()).then(Mono.from(c.connection.setAutoCommit(true)))
					.timeout(limit, Mono.error(() -> new java.util.concurrent.TimeoutException("the rollback on release did not "
							+ "finish within cleanupTimeout " + limit.toMillis() + "ms")), scheduler);
		});
	}

	/**
	 * Takes one of the {@code maxIdle} places for a connection on its way back, or says there is none left.
	 * The count is the pool's own, changed at the moment of the decision: the pool's idle size would only show
	 * a connection once it is back, so returns that run at once (a burst ending together) would each see room
	 * and all stay (a cap of 2 left 3 idle).
	 */
	private boolean keepIdle(PhysicalConnection c) {
		for (;;) {
			int n = idleCounted.get();
			if (n >= settings.maxIdle()) {
				return false;
			}
			if (idleCounted.compareAndSet(n, n + 1)) {
				c.countedIdle.set(true);
				return true;
			}
		}
	}

	private void countIdle(PhysicalConnection c) {
		if (idleCapped && c.countedIdle.compareAndSet(false, true)) {
			idleCounted.incrementAndGet();
		}
	}

	private void uncountIdle(PhysicalConnection c) {
		if (idleCapped && c.countedIdle.compareAndSet(true, false)) {
			idleCounted.decrementAndGet();
		}
	}

	private Mono<Void> returnToPool(PooledConnection connection) {
		PhysicalConnection c = connection.physical;
		c.lastReturnedAt = now();
		if (idleCapped && !keepIdle(c) && pool.metrics().pendingAcquireSize() == 0) {
			return invalidate(connection.ref, "maxIdle");
		}
		// reactor-pool applies the eviction predicate (lifetime, uses) before recycling.
		return connection.ref.release();
	}

	private Mono<Void> invalidate(PooledRef<PhysicalConnection> ref, @Nullable String reason) {
		if (reason != null) {
			ref.poolable().evictFor(reason);
		}
		return ref.invalidate();
	}

	void releaseDetached(PooledRef<PhysicalConnection> ref) {
		inFlight.incrementAndGet();
		Uncancellable.runDetached(ref.release(), this::releaseDone);
	}

	void invalidateDetached(PooledRef<PhysicalConnection> ref, @Nullable String reason) {
		inFlight.incrementAndGet();
		Uncancellable.runDetached(invalidate(ref, reason), this::releaseDone);
	}

	private void releaseDone() {
		inFlight.decrementAndGet();
		checkDrained();
	}

	private void checkDrained() {
		if (state.get() != OPEN && isDrained()) {
			drained.tryEmitEmpty();
		}
	}

	// ---------------------------------------------------------------- housekeeping

	private void housekeep() {
		if (state.get() != OPEN || !housekeeping.compareAndSet(false, true)) {
			return;
		}
		// A background task of the pool, like reactor-pool's own eviction: nobody subscribes to it, so it is
		// started here, and its errors are logged.
		keepAlive().then(topUp())
				.doFinally(s -> housekeeping.set(false))
				.subscribe(null, e -> LOG.warn("Pool '{}': housekeeping failed", name, e));
	}

	private Mono<Void> topUp() {
		if (settings.minIdle() == 0) {
			return Mono.empty();
		}
		return Mono.defer(() -> warmup(0)).doOnNext(n -> {
			if (n > 0) {
				LOG.debug("Pool '{}' opened {} connection(s) to keep minIdle={}", name, n, settings.minIdle());
			}
		}).onErrorResume(e -> {
			LOG.warn("Pool '{}' could not open a connection to keep minIdle={}: {}", name, settings.minIdle(), e.toString());
			return Mono.empty();
		}).then();
	}

	private boolean keepAliveDue(PhysicalConnection c, long now) {
		return !c.checkedOut && now - c.lastActiveAt() >= settings.keepAliveInterval().toMillis();
	}

	private Mono<Void> keepAlive() {
		if (settings.keepAliveInterval().isZero()) {
			return Mono.empty();
		}
		return Mono.defer(() -> {
			long now = now();
			long due = live.stream().filter(c -> keepAliveDue(c, now)).count();
			return Flux.range(0, (int) Math.min(due, settings.maxSize())).concatMap(i -> keepAliveOne(), 1).then();
		});
	}

	/** Borrows the least recently used idle connection and checks it remotely if it is due. */
	private Mono<Void> keepAliveOne() {
		return Mono.defer(() -> {
			InstrumentedPool.PoolMetrics m = pool.metrics();
			if (state.get() != OPEN || m.idleSize() == 0 || m.pendingAcquireSize() > 0) {
				return Mono.empty();
			}
			return pool.acquire().flatMap(ref -> {
				inFlight.incrementAndGet();
				PhysicalConnection c = ref.poolable();
				Mono<Void> work;
				if (!keepAliveDue(c, now())) {
					work = ref.release();
				}
				else {
					Duration limit = settings.acquireTimeoutUnlimited() || settings.acquireTimeout().isZero()
							? Duration.ofSeconds(30) : settings.acquireTimeout();
					work = remoteCheck(c).timeout(limit, scheduler)
							.onErrorResume(e -> {
								validationFailed(ref, e);
								return Mono.empty();
							})
							.flatMap(valid -> {
								if (valid) {
									validated(c);
									return ref.release();
								}
								validationFailed(ref, new IllegalStateException("Keep-alive validation of " + c + " returned false"));
								return Mono.empty();
							});
				}
				return new Uncancellable(work, this::releaseDone);
			}).onErrorResume(e -> {
				LOG.debug("Pool '{}': keep-alive skipped: {}", name, e.toString());
				return Mono.empty();
			});
		});
	}

	// ---------------------------------------------------------------- close

	public Mono<Void> close(Duration grace) {
		return Mono.defer(() -> {
			if (!closeStarted.compareAndSet(false, true)) {
				return closed.asMono();
			}
			return new Uncancellable(closing(grace), () -> {
			});
		});
	}

	private Mono<Void> closing(Duration grace) {
		return Mono.defer(() -> {
			state.set(CLOSING);
			housekeeper.dispose();
			removeShutdownHook();
			for (Acquisition.Run run : new ArrayList<>(acquiring)) {
				run.closed();
			}
			checkDrained();
			Mono<Void> waitForHeld;
			if (grace.isZero()) {
				waitForHeld = isDrained() ? Mono.empty() : forceClose();
			}
			else {
				waitForHeld = drained.asMono().timeout(grace, Mono.defer(this::forceClose), scheduler);
			}
			return waitForHeld
					.then(pool.disposeLater())
					.doFinally(s -> {
						state.set(CLOSED);
						closed.tryEmitEmpty();
						LOG.debug("Pool '{}' closed", name);
					});
		});
	}

	private boolean isDrained() {
		return held.isEmpty() && acquiring.isEmpty() && inFlight.get() == 0 && recycling.get() == 0;
	}

	/** Destroys the connections still held after the grace period, then waits for releases under way. */
	private Mono<Void> forceClose() {
		List<PooledConnection> still = new ArrayList<>(held);
		int revoked = 0;
		for (PooledConnection connection : still) {
			if (connection.revoke()) {
				revoked++;
				inFlight.incrementAndGet();
				held.remove(connection);
				connection.stopLeakTimer();
				Uncancellable.runDetached(invalidate(connection.ref, null), this::releaseDone);
			}
		}
		if (revoked > 0) {
			LOG.warn("Pool '{}' closes {} connection(s) still in use after the grace period", name, revoked);
		}
		checkDrained();
		return drained.asMono();
	}

	private void closeAtExit() {
		shutdownHook = null;
		try {
			close(Duration.ofSeconds(5)).toFuture().get(10, TimeUnit.SECONDS);
		}
		catch (Exception e) {
			LOG.warn("Pool '{}' did not close cleanly at JVM exit", name, e);
		}
	}

	private void removeShutdownHook() {
		Thread hook = shutdownHook;
		if (hook != null && Thread.currentThread() != hook) {
			shutdownHook = null;
			try {
				Runtime.getRuntime().removeShutdownHook(hook);
			}
			catch (IllegalStateException shuttingDown) {
				// The JVM is already exiting; the hook runs or ran anyway.
			}
		}
	}

	/** Whether a shutdown hook is registered (for tests). */
	public boolean hasShutdownHook() {
		return shutdownHook != null;
	}

	// ---------------------------------------------------------------- listeners

	private void fire(Consumer<PoolListener> event) {
		for (PoolListener l : listeners) {
			try {
				event.accept(l);
			}
			catch (RuntimeException e) {
				LOG.warn("Pool '{}': listener {} failed", name, l, e);
			}
		}
	}

	/** Consumes a result to its end, whatever it holds (update count or rows). */
	/**
	 * Drains {@code result}, failing with the server's error if the statement failed. {@code Result.flatMap}
	 * cannot be used to discard segments: in R2DBC 1.0 a server error arrives as a {@code Message} segment,
	 * which it would drop, so a failing init SQL or validation query would pass. {@code map} signals it.
	 */
	private static Publisher<?> consume(io.r2dbc.spi.Result result) {
		return result.map((row, metadata) -> Boolean.TRUE);
	}
}
