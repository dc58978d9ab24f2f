package io.tether.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's Java snippets run as written: each one marked {@code <!-- tour: name -->} must be a copy of
 * the block between {@code // tour:name} and {@code // end} in {@link QuickStart} or {@link ApiTour}, and those
 * programs run in this test (H2) and in {@code ApiTourIT} (PostgreSQL).
 */
class ReadmeTourTest {

	static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

	@Test
	void everyReadmeSnippetIsCodeThatTheToursRun() throws IOException {
		String readme = Files.readString(ROOT.resolve("README.md"));
		Map<String, String> code = new LinkedHashMap<>();
		for (String file : List.of("QuickStart.java", "ApiTour.java")) {
			code.putAll(markedBlocks(Files.readString(ROOT.resolve("examples/src/main/java/io/tether/examples/" + file))));
		}
		Matcher m = Pattern.compile("<!-- tour: ([a-z]+) -->\\s*```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
		int found = 0;
		while (m.find()) {
			found++;
			String name = m.group(1);
			assertThat(code).as("README snippet '%s' has a // tour:%s block in the examples", name, name).containsKey(name);
			assertThat(normalize(m.group(2))).as("README snippet '%s'", name).isEqualTo(normalize(code.get(name)));
		}
		assertThat(found).as("snippets in the README").isGreaterThanOrEqualTo(8);
	}

	@Test
	void theTourRunsOnH2() {
		List<String> out = ApiTour.run("r2dbc:h2:mem:///tour_test?options=DB_CLOSE_DELAY=-1");
		assertThat(out).containsExactly(
				"alice has id 1",
				"one: User[id=1, email=alice@example.com, active=true]",
				"emails: [alice@example.com, bob@example.com]",
				"deactivated: 1",
				"items added: [1, 1]",
				"items moved: 2",
				"duplicate: already registered (SQLState 23505)",
				"items: 2",
				"report: [alice@example.com: 0 items, bob@example.com: 2 items]");
	}

	@Test
	void theQuickStartRuns() {
		QuickStart.main(new String[0]);
	}

	static Map<String, String> markedBlocks(String source) {
		Map<String, String> blocks = new LinkedHashMap<>();
		Matcher m = Pattern.compile("// tour:([a-z]+)\\n(.*?)\\n\\s*// end", Pattern.DOTALL).matcher(source);
		while (m.find()) {
			blocks.put(m.group(1), m.group(2));
		}
		return blocks;
	}

	/** Same code modulo indentation (tabs in the sources, spaces in the README) and trailing blanks. */
	static String normalize(String code) {
		List<String> lines = code.replace("\t", "    ").stripTrailing().lines().toList();
		int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
		return String.join("\n", lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent).stripTrailing()).toList());
	}
}
