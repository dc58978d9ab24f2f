package io.tether.examples.service;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Command-line options of the form {@code --name=value} or, for flags, {@code --name}. Every mistake is an
 * {@link IllegalArgumentException} naming the option, what it expects and what it got.
 */
final class Options {

	private final Map<String, String> values = new HashMap<>();

	private Options() {
	}

	/**
	 * @param flags  options without a value
	 * @param valued options with one, as their usage ({@code --port=N}); the name is what precedes {@code =}
	 */
	static Options parse(String[] args, List<String> flags, List<String> valued) {
		Options options = new Options();
		String usage = String.join(", ", flags) + (flags.isEmpty() ? "" : ", ") + String.join(", ", valued);
		for (String arg : args) {
			int eq = arg.indexOf('=');
			String name = eq < 0 ? arg : arg.substring(0, eq);
			if (flags.contains(name)) {
				if (eq >= 0) {
					throw new IllegalArgumentException(name + " takes no value, was '" + arg + "'");
				}
				options.values.put(name, "");
				continue;
			}
			String form = valued.stream().filter(v -> v.startsWith(name + "=")).findFirst()
					.orElseThrow(() -> new IllegalArgumentException("Unknown argument '" + arg + "'; known: " + usage));
			if (eq < 0 || eq == arg.length() - 1) {
				throw new IllegalArgumentException(name + " needs a value: " + form);
			}
			options.values.put(name, arg.substring(eq + 1));
		}
		return options;
	}

	boolean flag(String name) {
		return values.containsKey(name);
	}

	Optional<String> string(String name) {
		return Optional.ofNullable(values.get(name));
	}

	int integer(String name, int min, int max, int orElse) {
		String value = values.get(name);
		return value == null ? orElse : integer(name, value, min, max);
	}

	/** {@code value} as an int in {@code min..max}; {@code source} names where it came from (an option, a variable). */
	static int integer(String source, String value, int min, int max) {
		int n;
		try {
			n = Integer.parseInt(value);
		}
		catch (NumberFormatException e) {
			throw new IllegalArgumentException(source + " must be an integer in " + min + ".." + max + ", was '" + value + "'");
		}
		if (n < min || n > max) {
			throw new IllegalArgumentException(source + " must be an integer in " + min + ".." + max + ", was " + n);
		}
		return n;
	}
}
