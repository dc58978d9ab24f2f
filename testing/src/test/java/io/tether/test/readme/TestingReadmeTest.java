package io.tether.test.readme;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The "Testing your code" section shows {@link UsersTest} as it is: its {@code <!-- snippet: testing -->} block is
 * the source of that class without the package line, and its {@code users.sql} block is the schema it uses.
 */
class TestingReadmeTest {

	static final Path SECTION = Path.of("..", "README.md");
	static final Path EXAMPLE = Path.of("src", "test", "java", "io", "tether", "test", "readme", "UsersTest.java");

	@Test
	void theSnippetIsTheTestThatRuns() throws IOException {
		Matcher m = Pattern.compile("<!-- snippet: testing -->\\s*```java\\n(.*?)```", Pattern.DOTALL)
				.matcher(Files.readString(SECTION));
		assertThat(m.find()).as("a <!-- snippet: testing --> java block in %s", SECTION).isTrue();
		String source = Files.readString(EXAMPLE).replaceFirst("(?s)^package [^;]+;\\s*", "");
		assertThat(normalize(m.group(1))).isEqualTo(normalize(source));
	}

	@Test
	void theSchemaShownIsTheSchemaUsed() throws IOException {
		Matcher m = Pattern.compile("<!-- snippet: users.sql -->\\s*```sql\\n(.*?)```", Pattern.DOTALL)
				.matcher(Files.readString(SECTION));
		assertThat(m.find()).as("a <!-- snippet: users.sql --> sql block in %s", SECTION).isTrue();
		assertThat(normalize(m.group(1))).isEqualTo(normalize(Files.readString(Path.of("src", "test", "resources", "users.sql"))));
	}

	/** Same code modulo indentation style (tabs in sources, spaces in Markdown) and trailing blanks. */
	static String normalize(String code) {
		List<String> lines = code.replace("\t", "    ").strip().lines().map(String::stripTrailing).toList();
		return String.join("\n", lines);
	}
}
