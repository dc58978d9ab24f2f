package io.tether.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The load runner's arithmetic: ratios are taken within a repetition, then the median over repetitions. */
class ReportTest {

	private static final Workload W1 = new Workload("w1", 32);

	private static Result result(int rep, String peer, long ops) {
		return new Result(rep, W1, peer, ops, 1_000_000_000L, ops * 10_000, 2.0, 0, 0, 0, 0, Map.of(), Double.NaN);
	}

	@Test
	void ratioIsTheMedianOfSameRepetitionRatiosNotTheRatioOfMedians() {
		// The machine slows down in rep 2 and rep 3 for both peers alike: per repetition the peer is 2x, 1.1x, 1.2x.
		List<Result> rs = List.of(result(1, "tether", 2000), result(1, Report.RAW, 1000),
				result(2, "tether", 1100), result(2, Report.RAW, 1000),
				result(3, "tether", 600), result(3, Report.RAW, 500));

		assertThat(Report.ratio(rs, W1, "tether", Report.RAW, Result::opsPerSecond)).isCloseTo(1.2, within(1e-9));
		// The ratio of medians would have been 1100 / 1000.
	}

	@Test
	void repetitionsWithoutTheReferenceAreLeftOut() {
		List<Result> rs = List.of(result(1, "tether", 2000), result(1, Report.RAW, 1000), result(2, "tether", 9000),
				result(2, Report.RAW, 0));

		assertThat(Report.ratio(rs, W1, "tether", Report.RAW, Result::opsPerSecond)).isEqualTo(2.0);
		assertThat(Report.ratio(rs, W1, "tether", Report.SPRING, Result::opsPerSecond)).isNaN();
	}

	@Test
	void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
		assertThat(Report.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
		assertThat(Report.median(new double[] {5})).isEqualTo(5);
		assertThat(Report.median(new double[0])).isNaN();
	}

	@Test
	void cpuPerOperationAndClientCoresComeFromTheWindow() {
		Result r = new Result(1, W1, "tether", 20_000, 2_000_000_000L, 700_000_000L, 2.0, 0, 0, 0, 0, Map.of(), Double.NaN);

		assertThat(r.opsPerSecond()).isEqualTo(10_000);
		assertThat(r.cpuMicrosPerOp()).isEqualTo(35.0);
		assertThat(r.clientCores()).isEqualTo(0.35);
	}

	@Test
	void errorsAreKeyedByClassRootCauseAndSqlState() {
		Errors errors = new Errors();
		errors.record(new IllegalStateException("first", new java.io.IOException("disk")));
		errors.record(new IllegalStateException("second", new java.io.IOException("net")));
		errors.record(new io.r2dbc.spi.R2dbcTransientResourceException("deadlock", "40P01"));

		assertThat(errors.total()).isEqualTo(3);
		assertThat(errors.causes()).containsEntry("java.lang.IllegalStateException <- java.io.IOException",
				new Errors.Cause(2, "first"));
		assertThat(errors.causes()).containsEntry("io.r2dbc.spi.R2dbcTransientResourceException [SQLState 40P01]",
				new Errors.Cause(1, "deadlock"));
	}
}
