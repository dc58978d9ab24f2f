package io.tether.benchmarks.load;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Top methods of a JFR recording's execution samples ({@code jdk.ExecutionSample}, Java code only), by self
 * time (the method on top of the stack) and by total time (the method anywhere on the stack), and the same
 * by package group. {@code LoadRunner --summarise-jfr=FILE [--top=N]} prints it for any recording.
 */
final class JfrSummary {

	private JfrSummary() {
	}

	static void main(String[] args) throws IOException {
		System.out.print(summarise(Path.of(args[0]), Integer.parseInt(args[1])));
	}

	static String summarise(Path file, int top) throws IOException {
		Map<String, Integer> self = new HashMap<>();
		Map<String, Integer> total = new HashMap<>();
		Map<String, Integer> selfGroup = new HashMap<>();
		int samples = 0;
		for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
			if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
				continue;
			}
			RecordedStackTrace st = e.getStackTrace();
			if (st == null || st.getFrames().isEmpty()) {
				continue;
			}
			samples++;
			List<RecordedFrame> frames = st.getFrames();
			String topName = name(frames.get(0));
			self.merge(topName, 1, Integer::sum);
			selfGroup.merge(group(topName), 1, Integer::sum);
			Set<String> seen = new HashSet<>();
			for (RecordedFrame f : frames) {
				String n = name(f);
				if (seen.add(n)) {
					total.merge(n, 1, Integer::sum);
				}
			}
		}
		StringBuilder b = new StringBuilder("JFR execution samples of " + file.getFileName() + ": " + samples
				+ " samples (Java frames only; native, GC and JIT threads are not sampled here)\n");
		append(b, "top " + top + " methods by self samples", self, samples, top);
		append(b, "self samples by code group", selfGroup, samples, top);
		append(b, "top " + top + " methods by total samples (anywhere on the stack)", total, samples, top);
		return b.toString();
	}

	private static void append(StringBuilder b, String title, Map<String, Integer> counts, int samples, int top) {
		b.append('\n').append(title).append(":\n");
		counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
				.forEach(en -> b.append(String.format(Locale.ROOT, "  %6.2f%%  %6d  %s%n", 100.0 * en.getValue() / samples,
						en.getValue(), en.getKey())));
	}

	private static String name(RecordedFrame f) {
		return f.getMethod().getType().getName() + "." + f.getMethod().getName();
	}

	/** Whose code a frame is: Tether, reactor-core, reactor-netty/netty, r2dbc-postgresql, r2dbc-pool/reactor-pool, JDK. */
	static String group(String method) {
		String[][] groups = {{"io.tether.", "tether"}, {"reactor.netty.", "reactor-netty"}, {"io.netty.", "netty"},
				{"reactor.pool.", "reactor-pool"}, {"io.r2dbc.pool.", "r2dbc-pool"}, {"io.r2dbc.postgresql.", "r2dbc-postgresql"},
				{"reactor.core.", "reactor-core"}, {"java.", "jdk"}, {"jdk.", "jdk"}, {"sun.", "jdk"}, {"org.springframework.", "spring"}};
		for (String[] g : groups) {
			if (method.startsWith(g[0])) {
				return g[1];
			}
		}
		return "other";
	}
}
