package io.tether.pool.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Copies everything written to {@code System.err} into a buffer until closed, still passing it through.
 * The tests' SLF4J binding (slf4j-simple) writes there and looks {@code System.err} up on every write, so
 * this is how a test reads what the pool logged.
 */
public final class StandardErrorCapture implements AutoCloseable {

	private final PrintStream original;
	private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

	private StandardErrorCapture() {
		this.original = System.err;
		System.setErr(new PrintStream(new Tee(), true, StandardCharsets.UTF_8));
	}

	public static StandardErrorCapture start() {
		return new StandardErrorCapture();
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
			original.write(b, off, len);
		}

		@Override
		public void flush() throws IOException {
			original.flush();
		}
	}
}
