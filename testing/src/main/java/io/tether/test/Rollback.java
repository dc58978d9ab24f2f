package io.tether.test;

import io.tether.core.Database;
import io.tether.test.internal.Marks;
import java.util.Objects;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs pipelines in a transaction that is always rolled back, so a test leaves no data behind however it ends.
 *
 * <pre>{@code
 * StepVerifier.create(Rollback.rollbackAfter(db,
 *         db.sql("insert into users (email) values (:email)").bind("email", "a@example.com").rowsUpdated()
 *             .then(db.sql("select count(*) from users").mapTo(Long.class).one())))
 *     .expectNext(1L)        // the insert is visible inside the pipeline...
 *     .verifyComplete();     // ...and rolled back before completion
 *
 * Rollback rollback = Rollback.of(db);    // the same, for every pipeline given to run(...)
 * StepVerifier.withVirtualTime(() -> rollback.run(service.expireSessionsAfter(Duration.ofHours(1))))
 *     .thenAwait(Duration.ofHours(1))
 *     .expectNext(3L)
 *     .verifyComplete();
 * }</pre>
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li><b>Which connection:</b> the pipeline runs inside {@code db.inTransaction(...)} with the transaction
 *       marked rollback-only before the pipeline is subscribed. Statements of {@code db} in the pipeline find the
 *       transaction in the Reactor Context and join it, on whatever thread they run, so they see each other's
 *       writes. If a transaction of {@code db} is already active in the Context, it is joined and marked
 *       rollback-only as a whole.</li>
 *   <li><b>Complete:</b> {@code ROLLBACK}, release, then (for a {@code Mono}) the value and completion. A
 *       {@code Flux} delivers its items as they come, before the rollback; completion comes after it.</li>
 *   <li><b>Error:</b> {@code ROLLBACK}, release, then the error (translated like every error of {@code db}).</li>
 *   <li><b>Cancel:</b> {@code ROLLBACK} and release in the background.</li>
 * </ul>
 * What the rollback cannot undo: work on another connection, that is, code in the pipeline that lost the
 * Context ({@code toFuture()}, a hand-made {@code subscribe()}), {@code Propagation.REQUIRES_NEW}, or
 * another {@code Database}. {@link TetherTest#rollback()} fails a test that does any of these and commits.
 *
 * <p>Cold: nothing is acquired before subscription, and each subscription is its own transaction.
 * Instances are immutable and thread-safe.
 *
 * @since 0.1
 */
public final class Rollback {

	private final Database db;

	private Rollback(Database db) {
		this.db = db;
	}

	/** A view of {@code db} that runs every pipeline given to {@link #run} in a rolled-back transaction. */
	public static Rollback of(Database db) {
		return new Rollback(Objects.requireNonNull(db, "db must not be null"));
	}

	/** Runs {@code pipeline} in a transaction of {@code db} that is always rolled back; see the class contract. */
	public static <T> Mono<T> rollbackAfter(Database db, Mono<T> pipeline) {
		return of(db).run(pipeline);
	}

	/** The {@code Flux} flavour of {@link #rollbackAfter(Database, Mono)}. */
	public static <T> Flux<T> rollbackAfter(Database db, Publisher<? extends T> pipeline) {
		return of(db).run(pipeline);
	}

	/** The database whose transactions this view opens. */
	public Database database() {
		return db;
	}

	/** {@code pipeline} in a transaction that is always rolled back; see the class contract. */
	public <T> Mono<T> run(Mono<T> pipeline) {
		Objects.requireNonNull(pipeline, "pipeline must not be null");
		return db.inTransaction(db.setRollbackOnly().then(pipeline)).contextWrite(Marks::withRollback);
	}

	/** The {@code Flux} flavour of {@link #run(Mono)}. */
	public <T> Flux<T> run(Publisher<? extends T> pipeline) {
		Objects.requireNonNull(pipeline, "pipeline must not be null");
		return db.<T>inTransaction(db.setRollbackOnly().thenMany(pipeline)).contextWrite(Marks::withRollback);
	}

	@Override
	public String toString() {
		return "Rollback[" + db + "]";
	}
}
