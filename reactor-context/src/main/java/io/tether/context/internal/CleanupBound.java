package io.tether.context.internal;

import java.time.Duration;
import reactor.core.scheduler.Scheduler;

/**
 * How long one cleanup step of a scope may take (the drain of a cancelled result, a rollback, the restore
 * of session state, the release), and the scheduler that times it. A step that does not finish in time
 * gives up on the connection: it is destroyed instead of waited for. {@code drainBudget} is how long the
 * drain of a cancelled statement may read its remainder before the server is asked to cancel the statement
 * (see {@link ServerCancel}); the drain as a whole stays within {@code timeout}.
 */
record CleanupBound(Duration timeout, Scheduler timer, Duration drainBudget) {
}
