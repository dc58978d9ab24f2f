package io.tether.pool.internal;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.pool.PooledRef;

/**
 * The connection an application gets from the pool: one checkout of a physical connection. Everything
 * is forwarded to the physical connection, with three additions:
 * <ul>
 *   <li>errors of statements and connection operations are observed; a connection-level error marks the
 *       physical connection broken, so it is destroyed instead of returned;</li>
 *   <li>statement executions and result consumptions are tracked, so that closing while a result is
 *       still streaming (or was cancelled before its end, with nothing completed since) is detected;</li>
 *   <li>{@link #close()} releases the checkout exactly once; later closes complete at once, and further
 *       use fails with {@link IllegalStateException}.</li>
 * </ul>
 */
final class PooledConnection implements Connection, Wrapped<Connection> {

	final PoolEngine engine;
	final PooledRef<PhysicalConnection> ref;
	final PhysicalConnection physical;
	final long acquiredAt;
	final @Nullable Throwable acquiredStack;

	private final Connection delegate;
	private final AtomicBoolean closed = new AtomicBoolean();
	private final AtomicBoolean leakReported = new AtomicBoolean();
	private volatile Disposable leakTimer = Disposables.disposed();

	private final AtomicInteger activeStreams = new AtomicInteger();
	private final AtomicLong streamSequence = new AtomicLong();
	/** Sequence number of the latest stream cancelled before its end, 0 if none or if a later one completed. */
	private final AtomicLong interruptedStream = new AtomicLong();
	/**
	 * Connection operations (BEGIN, COMMIT, ROLLBACK, SET ...) subscribed and not yet answered, or cancelled
	 * before their answer: while one is, {@link #isAutoCommit()} reports a state the server may be about to
	 * change (a BEGIN on its way), so the release cannot trust it.
	 */
	private final AtomicInteger operationsInFlight = new AtomicInteger();
	private final AtomicBoolean operationInterrupted = new AtomicBoolean();

	PooledConnection(PoolEngine engine, PooledRef<PhysicalConnection> ref, long acquiredAt,
			@Nullable Throwable acquiredStack) {
		this.engine = engine;
		this.ref = ref;
		this.physical = ref.poolable();
		this.delegate = physical.connection;
		this.acquiredAt = acquiredAt;
		this.acquiredStack = acquiredStack;
	}

	void leakTimer(Disposable timer) {
		this.leakTimer = timer;
		if (closed.get()) {
			timer.dispose();
		}
	}

	void stopLeakTimer() {
		leakTimer.dispose();
	}

	/** True the first time only: the leak of this checkout is reported once. */
	boolean markLeakReported() {
		return !closed.get() && leakReported.compareAndSet(false, true);
	}

	boolean leakReported() {
		return leakReported.get();
	}

	boolean isClosed() {
		return closed.get();
	}

	/** Takes the checkout away from the application (pool closing after its grace period); true if it was still open. */
	boolean revoke() {
		return closed.compareAndSet(false, true);
	}

	/** Whether a result was still streaming, or was cancelled before its end with nothing completed since. */
	boolean resultStillStreaming() {
		return activeStreams.get() > 0 || interruptedStream.get() != 0;
	}

	/** Whether a connection operation is still unanswered, or was cancelled before its answer came. */
	boolean operationUnanswered() {
		return operationsInFlight.get() > 0 || operationInterrupted.get();
	}

	void observe(Throwable error) {
		if (ConnectionErrors.isConnectionError(error)) {
			physical.markBroken(error);
		}
	}

	/**
	 * Forwards {@code source}, counting it as a stream of this connection while it runs. A cancel before
	 * the end counts as an interruption, unless {@code endsWithFirst} and a first element has arrived
	 * (a publisher of one value, such as rows updated, or an execute() that produced its result).
	 */
	<T> Flux<T> track(Publisher<T> source, boolean endsWithFirst) {
		return new TrackedStream<T, T>(this, source, endsWithFirst, Function.identity());
	}

	/** A tracked stream starts: counted active, numbered. */
	long streamStarted() {
		long seq = streamSequence.incrementAndGet();
		activeStreams.incrementAndGet();
		return seq;
	}

	/** A tracked stream completed: a cancelled one before it no longer counts as interrupted. */
	void streamCompleted(long seq) {
		interruptedStream.updateAndGet(i -> i != 0 && i < seq ? 0 : i);
		activeStreams.decrementAndGet();
	}

	void streamFailed() {
		activeStreams.decrementAndGet();
	}

	/** A tracked stream was cancelled: before its end it counts as interrupted, unless {@code ended} says it was done. */
	void streamCancelled(long seq, boolean ended) {
		if (!ended) {
			interruptedStream.accumulateAndGet(seq, Math::max);
		}
		activeStreams.decrementAndGet();
	}

	Flux<Result> trackExecution(Publisher<? extends Result> results) {
		return new TrackedStream<Result, Result>(this, Flux.from(results), true, r -> new TrackingResult(this, r));
	}

	IllegalStateException closedError() {
		return new IllegalStateException("This connection was closed and returned to pool '" + engine.name() + "'");
	}

	private void assertOpen() {
		if (closed.get()) {
			throw closedError();
		}
	}

	private Mono<Void> guarded(Supplier<? extends Publisher<Void>> operation) {
		return new GuardedOperation(this, operation);
	}

	void operationStarted() {
		operationsInFlight.incrementAndGet();
	}

	/** A connection operation got its answer, or was cancelled before it ({@code interrupted}). */
	void operationEnded(boolean interrupted) {
		if (interrupted) {
			operationInterrupted.set(true);
		}
		operationsInFlight.decrementAndGet();
	}

	/**
	 * Returns the connection to the pool, once: the first subscription releases it, later ones complete
	 * at once. The release cannot be cancelled: a cancel only stops the completion signal. Completes when
	 * the connection is back in the pool, or closed if it was broken, expired, over its uses or above the
	 * idle cap.
	 */
	@Override
	public Publisher<Void> close() {
		return Mono.defer(() -> closed.compareAndSet(false, true) ? engine.release(this) : Mono.empty());
	}

	@Override
	public Publisher<Void> beginTransaction() {
		return guarded(delegate::beginTransaction);
	}

	@Override
	public Publisher<Void> beginTransaction(TransactionDefinition definition) {
		return guarded(() -> delegate.beginTransaction(definition));
	}

	@Override
	public Publisher<Void> commitTransaction() {
		return guarded(delegate::commitTransaction);
	}

	@Override
	public Publisher<Void> rollbackTransaction() {
		return guarded(delegate::rollbackTransaction);
	}

	@Override
	public Batch createBatch() {
		assertOpen();
		return new TrackingBatch(this, delegate.createBatch());
	}

	@Override
	public Publisher<Void> createSavepoint(String name) {
		return guarded(() -> delegate.createSavepoint(name));
	}

	@Override
	public Statement createStatement(String sql) {
		assertOpen();
		return new TrackingStatement(this, delegate.createStatement(sql));
	}

	@Override
	public boolean isAutoCommit() {
		return delegate.isAutoCommit();
	}

	@Override
	public ConnectionMetadata getMetadata() {
		return delegate.getMetadata();
	}

	@Override
	public IsolationLevel getTransactionIsolationLevel() {
		return delegate.getTransactionIsolationLevel();
	}

	@Override
	public Publisher<Void> releaseSavepoint(String name) {
		return guarded(() -> delegate.releaseSavepoint(name));
	}

	@Override
	public Publisher<Void> rollbackTransactionToSavepoint(String name) {
		return guarded(() -> delegate.rollbackTransactionToSavepoint(name));
	}

	@Override
	public Publisher<Void> setAutoCommit(boolean autoCommit) {
		return guarded(() -> delegate.setAutoCommit(autoCommit));
	}

	@Override
	public Publisher<Void> setLockWaitTimeout(Duration timeout) {
		return guarded(() -> delegate.setLockWaitTimeout(timeout));
	}

	@Override
	public Publisher<Void> setStatementTimeout(Duration timeout) {
		return guarded(() -> delegate.setStatementTimeout(timeout));
	}

	@Override
	public Publisher<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
		return guarded(() -> delegate.setTransactionIsolationLevel(isolationLevel));
	}

	/** Validates the physical connection; {@code false} after close, and a {@code false} marks it broken. */
	@Override
	public Publisher<Boolean> validate(ValidationDepth depth) {
		return Mono.defer(() -> {
			if (closed.get()) {
				return Mono.just(false);
			}
			return Mono.from(delegate.validate(depth)).doOnNext(valid -> {
				if (!valid) {
					physical.markBroken(new IllegalStateException("validate(" + depth + ") returned false"));
				}
			}).doOnError(this::observe);
		});
	}

	/** The physical connection. Using it directly bypasses the pool's tracking. */
	@Override
	public Connection unwrap() {
		return delegate;
	}

	@Override
	public String toString() {
		return "PooledConnection{pool=" + engine.name() + ", " + physical + (closed.get() ? ", closed" : "") + "}";
	}
}
