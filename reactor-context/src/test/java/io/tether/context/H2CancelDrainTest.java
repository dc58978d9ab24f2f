package io.tether.context;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.context.testing.Database;

/** H2 has no cancel request: a cancelled result is drained in full, which in memory is fast. */
class H2CancelDrainTest extends CancelDrainContract {

	@Override
	Database database() {
		return Database.H2;
	}

	@Override
	String series(long rows) {
		return "SELECT X, SESSION_ID() FROM SYSTEM_RANGE(1, " + rows + ")";
	}

	@Override
	long largeResult() {
		return 1_000_000;
	}

	@Override
	void assertRowsReadAfterTheCancel(long read, long rows) {
		assertThat(read).as("rows read after the cancel: the whole remainder").isEqualTo(rows - 1);
	}
}
