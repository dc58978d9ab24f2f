package io.tether.test;

import io.tether.test.internal.Marks;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Watches one pipeline on a {@link RecordingConnectionFactory}: wrap the pipeline with {@link #mono} or
 * {@link #flux}, run it, then assert with {@link TetherAssertions#assertThat(PipelineProbe)}.
 *
 * <pre>{@code
 * PipelineProbe probe = recorder.probe();
 * StepVerifier.create(probe.mono(repository.transfer(1, 2, 10))).expectNext(10L).verifyComplete();
 * TetherAssertions.assertThat(probe).ranOnOneConnection().hasNoStatementOutsideScope();
 * }</pre>
 *
 * <p>The probe marks the Reactor Context of the pipeline. A connection belongs to the probe when
 * {@code create()} was subscribed with that mark in its Context, or, as a connection <em>acquired outside the
 * scope</em>, when it was subscribed with no mark of the kit at all while the pipeline was running (between
 * its subscription and its termination or cancellation): that is code in the pipeline that lost the Context,
 * such as {@code toFuture()}, a hand-made {@code subscribe()}, or a publisher created and subscribed elsewhere.
 * Acquisitions by other pipelines that are themselves wrapped by the kit are never counted.
 *
 * @since 0.1
 */
public final class PipelineProbe {

	private final RecordingConnectionFactory recorder;
	private final int number;
	private final AtomicInteger running = new AtomicInteger();
	private final AtomicInteger subscriptions = new AtomicInteger();

	PipelineProbe(RecordingConnectionFactory recorder, int number) {
		this.recorder = recorder;
		this.number = number;
	}

	/**
	 * {@code pipeline} with this probe's mark in its Context. Signals, cancellation and the Context otherwise
	 * pass through unchanged; the pipeline counts as running from its subscription to its complete, error or
	 * cancel. Cold: each subscription is one run, and all runs are recorded together.
	 */
	public <T> Mono<T> mono(Mono<T> pipeline) {
		Objects.requireNonNull(pipeline, "pipeline must not be null");
		return Mono.defer(() -> {
			AtomicBoolean ended = new AtomicBoolean();
			return pipeline.doFirst(this::started)
					.doOnTerminate(() -> ended(ended))
					.doOnCancel(() -> ended(ended));
		}).contextWrite(ctx -> Marks.withProbe(ctx, this));
	}

	/** The {@code Flux} flavour of {@link #mono(Mono)}. */
	public <T> Flux<T> flux(Publisher<? extends T> pipeline) {
		Objects.requireNonNull(pipeline, "pipeline must not be null");
		return Flux.<T>defer(() -> {
			AtomicBoolean ended = new AtomicBoolean();
			return Flux.<T>from(pipeline).doFirst(this::started)
					.doOnTerminate(() -> ended(ended))
					.doOnCancel(() -> ended(ended));
		}).contextWrite(ctx -> Marks.withProbe(ctx, this));
	}

	/** Before the terminal signal goes on, so that the probe has stopped when the subscriber hears of it. */
	private void ended(AtomicBoolean ended) {
		if (ended.compareAndSet(false, true)) {
			running.decrementAndGet();
		}
	}

	private void started() {
		subscriptions.incrementAndGet();
		running.incrementAndGet();
	}

	boolean isRunning() {
		return running.get() > 0;
	}

	/** How many times the wrapped pipeline was subscribed. */
	public int subscriptions() {
		return subscriptions.get();
	}

	/** The recorder this probe reads from. */
	public RecordingConnectionFactory recorder() {
		return recorder;
	}

	/** Connections the pipeline acquired, inside its Context or (having lost it) outside, in order. */
	public List<RecordedConnection> connections() {
		return recorder.connections().stream().filter(c -> c.belongsTo(this)).toList();
	}

	/** Connections acquired outside any kit pipeline while this pipeline ran: the Context was lost. */
	public List<RecordedConnection> connectionsAcquiredOutsideScope() {
		return recorder.connections().stream().filter(c -> c.lostContextDuring(this)).toList();
	}

	/** Statements that ran on {@link #connections()}, in order. */
	public List<RecordedStatement> statements() {
		Set<Integer> ids = connections().stream().map(RecordedConnection::id).collect(Collectors.toSet());
		return recorder.statements().stream().filter(s -> ids.contains(s.connectionId())).toList();
	}

	@Override
	public String toString() {
		return "PipelineProbe#" + number;
	}
}
