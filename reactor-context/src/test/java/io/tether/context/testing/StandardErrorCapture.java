package io.tether.context.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Copies everything written to {@code System.err} into a buffer until closed, still passing it through
 * ({@link #start()}) or holding it back ({@link #quiet()}). The tests' SLF4J binding (slf4j-simple) writes
 * there and looks {@code System.err} up on every write, so this is how a test reads what was logged.
 */
public final class StandardErrorCapture implements AutoCloseable {

	/** The start of an slf4j-simple record: an optional time, the thread in brackets, the level. */
	private static final Pattern RECORD_START = Pattern.compile("(\\S+ )?\\[[^\\]]*\\] (TRACE|DEBUG|INFO|WARN|ERROR) ");

	private final PrintStream original;
	private final boolean passThrough;
	private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

	private StandardErrorCapture(boolean passThrough) {
		this.original = System.err;
		this.passThrough = passThrough;
		System.setErr(new PrintStream(new Tee(), true, StandardCharsets.UTF_8));
	}

	/** Captures {@code System.err} and still prints it. */
	public static StandardErrorCapture start() {
		return new StandardErrorCapture(true);
	}

	/**
	 * Captures {@code System.err} without printing it: for a test that provokes a log it expects, which then
	 * asserts what was captured (so that nothing else written meanwhile goes unseen: assert on all of it).
	 */
	public static StandardErrorCapture quiet() {
		return new StandardErrorCapture(false);
	}

	/** Everything captured so far. */
	public String text() {
		synchronized (copy) {
			return copy.toString(StandardCharsets.UTF_8);
		}
	}

	/** Captured lines written by {@code logger} at {@code level} (slf4j-simple layout: "[thread] LEVEL logger - msg"). */
	public List<String> lines(String level, String logger) {
		return text().lines().filter(l -> l.contains(" " + level + " " + logger)).toList();
	}

	/**
	 * The captured text as log records: each slf4j-simple line ("[thread] LEVEL logger - msg", after an optional
	 * time) with the lines that follow it up to the next one (a stack trace), in order. Text before the first
	 * such line is a record of its own.
	 */
	public List<String> records() {
		List<String> records = new ArrayList<>();
		StringBuilder current = null;
		for (String line : text().lines().toList()) {
			if (current == null || RECORD_START.matcher(line).lookingAt()) {
				if (current != null) {
					records.add(current.toString());
				}
				current = new StringBuilder(line);
			}
			else {
				current.append('\n').append(line);
			}
		}
		if (current != null) {
			records.add(current.toString());
		}
		return records;
	}

	/** The captured text from the first occurrence of {@code line} on (the line and what follows, e.g. a stack). */
	public String from(String line) {
		String all = text();
		int at = all.indexOf(line);
		return at < 0 ? "" : all.substring(at);
	}

	@Override
	public void close() {
		System.setErr(original);
	}

	private final class Tee extends OutputStream {

		@Override
		public void write(int b) {
			write(new byte[] {(byte) b}, 0, 1);
		}

		@Override
		public void write(byte[] b, int off, int len) {
			synchronized (copy) {
				copy.write(b, off, len);
			}
			if (passThrough) {
				original.write(b, off, len);
			}
		}

		@Override
		public void flush() throws IOException {
			original.flush();
		}
	}
}
