package io.tether.examples.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's command line: every mistake names the option, what it expects and what it got. */
class DemoConfigTest {

	@Test
	void optionsAndEnvironment() {
		DemoConfig config = DemoConfig.from(new String[] {"--in-memory", "--port=8080", "--host=0.0.0.0", "--slow-start=3", "--slow-unit=50"},
				Map.of("PORT", "9000"));

		assertThat(config.port()).isEqualTo(8080);
		assertThat(config.host()).isEqualTo("0.0.0.0");
		assertThat(config.slowStart()).isEqualTo(3);
		assertThat(config.slowUnit()).isEqualTo(Duration.ofMillis(50));
		assertThat(config.databaseUrl()).startsWith("r2dbc:h2:mem:");
		assertThat(DemoConfig.from(new String[0], Map.of("PORT", "9000")).port()).isEqualTo(9000);
		assertThat(DemoConfig.from(new String[0], Map.of()).port()).isEqualTo(8000);
	}

	@Test
	void aMalformedOptionIsNamedWithWhatItExpects() {
		assertFails("--port=abc", "--port must be an integer in 0..65535, was 'abc'");
		assertFails("--port=70000", "--port must be an integer in 0..65535, was 70000");
		assertFails("--port=", "--port needs a value: --port=N");
		assertFails("--port", "--port needs a value: --port=N");
		assertFails("--slow-start=-1", "--slow-start must be an integer in 0..2147483647, was -1");
		assertFails("--slow-unit=1s", "--slow-unit must be an integer in 0..3600000, was '1s'");
		assertFails("--in-memory=yes", "--in-memory takes no value, was '--in-memory=yes'");
		assertFails("--prot=8000", "Unknown argument '--prot=8000'; known: --in-memory, --data-dir=DIR, --host=ADDR, --port=N, "
				+ "--slow-start=N, --slow-unit=MILLIS");
		assertThatThrownBy(() -> DemoConfig.from(new String[0], Map.of("PORT", "eighty")))
				.isInstanceOf(IllegalArgumentException.class).hasMessage("PORT (environment) must be an integer in 0..65535, was 'eighty'");
	}

	private static void assertFails(String arg, String message) {
		assertThatThrownBy(() -> DemoConfig.from(new String[] {arg}, Map.of())).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
	}
}
