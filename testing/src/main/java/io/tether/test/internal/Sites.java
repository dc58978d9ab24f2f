package io.tether.test.internal;

import java.security.CodeSource;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Finds, in a captured stack, the frame of the code that asked for a connection. */
public final class Sites {

	private static final List<String> LIBRARY_PREFIXES = List.of("java.", "javax.", "jdk.", "sun.", "com.sun.",
			"reactor.", "io.r2dbc.", "io.netty.", "org.h2.", "org.postgresql.", "org.junit.", "org.apache.maven.",
			"org.assertj.", "io.tether.context.", "io.tether.core.", "io.tether.pool.");

	private static final @Nullable CodeSource KIT = Sites.class.getProtectionDomain().getCodeSource();

	private Sites() {
	}

	/**
	 * The first frame of {@code site} that belongs neither to a library (JDK, Reactor, R2DBC, drivers, JUnit,
	 * Tether) nor to this kit, as {@code Class.method(File.java:42)}; null if there is none (the acquisition was
	 * subscribed from a library thread, not from application or test code).
	 */
	public static @Nullable String firstApplicationFrame(Throwable site) {
		for (StackTraceElement e : site.getStackTrace()) {
			if (!isLibrary(e.getClassName())) {
				return e.toString();
			}
		}
		return null;
	}

	private static boolean isLibrary(String className) {
		for (String prefix : LIBRARY_PREFIXES) {
			if (className.startsWith(prefix)) {
				return true;
			}
		}
		return className.startsWith("io.tether.test.") && isKitClass(className);
	}

	/** Whether the class comes from the kit's own jar (not from a test that happens to share its package). */
	private static boolean isKitClass(String className) {
		try {
			Class<?> c = Class.forName(className, false, Sites.class.getClassLoader());
			CodeSource source = c.getProtectionDomain().getCodeSource();
			return KIT == null ? source == null : source != null && KIT.getLocation().equals(source.getLocation());
		}
		catch (ClassNotFoundException | LinkageError | SecurityException e) {
			return false;
		}
	}
}
