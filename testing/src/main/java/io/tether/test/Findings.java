package io.tether.test;

import io.tether.test.RecordedEvent.Kind;
import io.tether.test.internal.SqlText;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The failure messages shared by {@link TetherAssertions} and {@link TetherExtension}. */
final class Findings {

	private Findings() {
	}

	/** An error whose cause is the acquisition stack of the first connection named, the others' suppressed. */
	static AssertionError failure(String message, List<RecordedConnection> where) {
		AssertionError error = new AssertionError(message);
		boolean first = true;
		for (RecordedConnection c : where) {
			Throwable site = c.acquisitionSite().orElse(null);
			if (site == null) {
				continue;
			}
			if (first) {
				error.initCause(site);
				first = false;
			}
			else {
				error.addSuppressed(site);
			}
		}
		return error;
	}

	static String list(List<RecordedConnection> connections) {
		StringBuilder b = new StringBuilder();
		for (RecordedConnection c : connections) {
			b.append("\n  ").append(c.describe());
		}
		return b.toString();
	}

	static @Nullable AssertionError stillAcquired(List<RecordedConnection> acquired, String after) {
		if (acquired.isEmpty()) {
			return null;
		}
		return failure(acquired.size() + (acquired.size() == 1 ? " connection is" : " connections are")
				+ " still acquired " + after + ":" + list(acquired)
				+ "\nEvery pipeline that was subscribed must complete, fail or be cancelled (StepVerifier: verify..., "
				+ "thenCancel(); a hand-made subscribe(): dispose()), and a connection taken from create() by hand "
				+ "must be closed exactly once.", acquired);
	}

	static @Nullable AssertionError openTransactions(List<RecordedConnection> open, String after) {
		if (open.isEmpty()) {
			return null;
		}
		return failure("a transaction is still open " + after + " on" + list(open)
				+ "\nA transaction begun by hand (beginTransaction()) must be committed or rolled back; "
				+ "inTransaction(...) does that itself.", open);
	}

	static @Nullable AssertionError doubleReleases(RecordingConnectionFactory recorder) {
		List<RecordedConnection> twice = new ArrayList<>();
		for (RecordedEvent e : recorder.events()) {
			if (e.kind() == Kind.DOUBLE_RELEASE) {
				twice.add(recorder.connection(e.connectionId()));
			}
		}
		if (twice.isEmpty()) {
			return null;
		}
		return failure(twice.size() + " close() call(s) on connections already released:" + list(twice), twice);
	}

	/** COMMITs, and statements that may change data and ran in auto-commit mode (each commits by itself). */
	static @Nullable AssertionError commitsOutsideRollback(RecordingConnectionFactory recorder) {
		StringBuilder b = new StringBuilder();
		List<RecordedConnection> where = new ArrayList<>();
		for (RecordedEvent e : recorder.events()) {
			if (e.kind() == Kind.COMMIT) {
				RecordedConnection c = recorder.connection(e.connectionId());
				b.append("\n  COMMIT on ").append(c.describe());
				where.add(c);
			}
		}
		for (RecordedStatement s : recorder.statements()) {
			if (!s.inTransaction() && SqlText.mayChangeData(s.sql())) {
				RecordedConnection c = recorder.connection(s.connectionId());
				b.append("\n  auto-commit of '").append(abbreviate(s.sql())).append("' on ").append(c.describe());
				where.add(c);
			}
		}
		if (where.isEmpty()) {
			return null;
		}
		return failure("committed outside the rollback scope:" + b
				+ "\nRun every pipeline that writes through Rollback (Rollback.rollbackAfter(db, pipeline), or the "
				+ "Rollback parameter's run(pipeline)). What commits for real: inTransaction(...) outside it, "
				+ "Propagation.REQUIRES_NEW inside it, statements outside any transaction, and code that lost the "
				+ "Context (toFuture(), a hand-made subscribe()).", where);
	}

	static @Nullable AssertionError outsideScope(List<RecordedConnection> outside, String where) {
		if (outside.isEmpty()) {
			return null;
		}
		return failure(outside.size() + (outside.size() == 1 ? " connection was" : " connections were")
				+ " acquired outside a scope, " + where + ":" + list(outside)
				+ "\nThe subscription that acquired it did not carry the pipeline's Reactor Context: look for "
				+ "toFuture(), block() or a hand-made subscribe() inside the pipeline, or a publisher created and "
				+ "subscribed outside it. Compose instead (flatMap, then, zip), so the Context flows.", outside);
	}

	static String abbreviate(String sql) {
		String oneLine = sql.strip().replaceAll("\\s+", " ");
		return oneLine.length() <= 80 ? oneLine : oneLine.substring(0, 77) + "...";
	}
}
