package io.tether.examples.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The load command's options, and what it says when it cannot even start its run (over real HTTP, on H2). */
class LoadCommandTest {

	@Test
	void optionsAndTheirDefaults() {
		assertThat(LoadCommand.settings(new String[0])).isEqualTo(new LoadCommand.Settings(null, 10, 3, Duration.ofSeconds(120)));
		assertThat(LoadCommand.settings(new String[] {"--url=http://127.0.0.1:8000", "--requests=50", "--users=1", "--timeout=5"}))
				.isEqualTo(new LoadCommand.Settings("http://127.0.0.1:8000", 50, 1, Duration.ofSeconds(5)));
	}

	@Test
	void aMalformedOptionIsNamedWithWhatItExpects() {
		assertSettingsFail("--requests=abc", "--requests must be an integer in 1..100000, was 'abc'");
		assertSettingsFail("--requests=0", "--requests must be an integer in 1..100000, was 0");
		assertSettingsFail("--users=-1", "--users must be an integer in 1..10000, was -1");
		assertSettingsFail("--timeout=1.5", "--timeout must be an integer in 1..86400, was '1.5'");
		assertSettingsFail("--requests", "--requests needs a value: --requests=N");
		assertSettingsFail("--url=", "--url needs a value: --url=http://host:port");
		assertSettingsFail("--url=127.0.0.1:8000", "--url must be the http:// URL of a running demo (http://host:port), was '127.0.0.1:8000'");
		assertSettingsFail("--url=http://bad host", "--url must be the http:// URL of a running demo (http://host:port), was 'http://bad host'");
		assertSettingsFail("--port=8000", "Unknown argument '--port=8000'; known: --url=http://host:port, --requests=N, --users=N, --timeout=SECONDS");
	}

	@Test
	void anHttpErrorWhileCreatingUsersIsReportedWithItsStatusAndDetail() {
		try (DemoServer server = DemoServer.start(DemoConfig.forTest(DemoConfig.inMemoryH2("load_" + UUID.randomUUID().toString().replace("-", "")),
				0, Duration.ofMillis(1)))) {
			assertThatThrownBy(() -> LoadCommand.run(server.url() + "/nope", 1, 1))
					.isInstanceOf(IllegalStateException.class)
					.hasMessageStartingWith("Could not create user load-")
					.hasMessageContaining(" on " + server.url() + "/nope: HTTP 404 Not Found {\"detail\":\"Not Found: no endpoint at /nope/users;");
		}
	}

	@Test
	void aServerThatIsNotThereIsReportedAsSuch() {
		DemoServer gone = DemoServer.start(DemoConfig.forTest(DemoConfig.inMemoryH2("load_" + UUID.randomUUID().toString().replace("-", "")),
				0, Duration.ofMillis(1)));
		String url = gone.url();
		gone.close();

		assertThatThrownBy(() -> LoadCommand.run(url, 1, 1, Duration.ofSeconds(30)))
				.isInstanceOf(IllegalStateException.class)
				.hasMessageStartingWith("Could not create user load-")
				.hasMessageContaining(" on " + url + ": ")
				.hasMessageContaining("Connection refused");
	}

	private static void assertSettingsFail(String arg, String message) {
		assertThatThrownBy(() -> LoadCommand.settings(new String[] {arg})).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
	}
}
