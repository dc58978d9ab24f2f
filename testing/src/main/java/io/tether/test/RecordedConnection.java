package io.tether.test;

import io.r2dbc.spi.Connection;
import io.tether.test.internal.Marks;
import io.tether.test.internal.Sites;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A connection handed out by a {@link RecordingConnectionFactory}, and what is known about it: whether it went
 * back, whether a transaction is open on it, and where it was acquired.
 *
 * <p>Thread-safe; the state is live (it changes as the connection is used).
 *
 * @since 0.1
 */
public final class RecordedConnection {

	private final int id;
	private final @Nullable Throwable site;
	private final String thread;
	private final Marks marks;
	private final List<PipelineProbe> activeProbes;
	final AtomicBoolean released = new AtomicBoolean();
	volatile boolean transactionOpen;
	volatile boolean autoCommitOff;
	volatile boolean implicitTransactionOpen;
	volatile @Nullable Connection connection;

	RecordedConnection(int id, @Nullable Throwable site, String thread, Marks marks, List<PipelineProbe> activeProbes) {
		this.id = id;
		this.site = site;
		this.thread = thread;
		this.marks = marks;
		this.activeProbes = activeProbes;
	}

	/** The id: 1, 2, ... in order of acquisition. */
	public int id() {
		return id;
	}

	/** Whether {@code close()} was called and completed. */
	public boolean isReleased() {
		return released.get();
	}

	/**
	 * Whether a transaction is open: begun and neither committed nor rolled back, or (after
	 * {@code setAutoCommit(false)}) a statement ran since the last commit or rollback.
	 */
	public boolean isTransactionOpen() {
		return transactionOpen || implicitTransactionOpen;
	}

	/**
	 * The stack of the code that subscribed to {@code create()}, if the factory captures them. The frames of
	 * the application or test are there when it subscribed on its own thread (e.g. in
	 * {@code StepVerifier.verify()}); an acquisition subscribed from a library thread shows only that thread.
	 */
	public Optional<Throwable> acquisitionSite() {
		return Optional.ofNullable(site);
	}

	/**
	 * Whether {@code create()} was subscribed in a pipeline handed to the kit ({@link Rollback} or a
	 * {@link PipelineProbe}), as its Reactor Context showed. A connection acquired by code that lost the Context
	 * ({@code toFuture()}, a hand-made {@code subscribe()}) is not.
	 */
	public boolean acquiredInKitPipeline() {
		return marks.isMarked();
	}

	/** Whether {@code create()} was subscribed inside {@link Rollback}. */
	public boolean acquiredInRollback() {
		return marks.rollback();
	}

	/** Closes the connection on behalf of code that leaked it (a test that is over). */
	Mono<Void> forceRelease() {
		Connection c = connection;
		return c == null || isReleased() ? Mono.empty() : Mono.from(c.close());
	}

	/** Whether this connection belongs to {@code probe}: acquired inside it, or outside any kit pipeline while it ran. */
	boolean belongsTo(PipelineProbe probe) {
		return marks.hasProbe(probe) || (!marks.isMarked() && activeProbes.contains(probe));
	}

	/** Whether it was acquired outside any kit pipeline while {@code probe} was running. */
	boolean lostContextDuring(PipelineProbe probe) {
		return !marks.isMarked() && activeProbes.contains(probe);
	}

	/**
	 * {@code connection #2 (acquired at com.example.UserRepoTest.leaks(UserRepoTest.java:42))}, or with the
	 * thread name when the application frame is unknown.
	 */
	public String describe() {
		String frame = site == null ? null : Sites.firstApplicationFrame(site);
		if (frame != null) {
			return "connection #" + id + " (acquired at " + frame + ")";
		}
		return "connection #" + id + " (acquired on thread " + thread
				+ (site == null ? "; acquisition stacks not captured)" : "; no application frame on its stack)");
	}

	@Override
	public String toString() {
		return describe() + (isReleased() ? " released" : " acquired") + (isTransactionOpen() ? ", transaction open" : "");
	}
}
