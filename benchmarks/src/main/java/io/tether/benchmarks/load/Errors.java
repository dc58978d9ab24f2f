package io.tether.benchmarks.load;

import io.r2dbc.spi.R2dbcException;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Errors counted by cause (exception class, root cause and SQLState), with the first message of each cause. */
final class Errors {

	/** One cause: how often it happened and its first message. */
	record Cause(long count, String firstMessage) {
	}

	private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();
	private final ConcurrentHashMap<String, String> firstMessages = new ConcurrentHashMap<>();
	private final LongAdder total = new LongAdder();

	void record(Throwable e) {
		String key = key(e);
		counts.computeIfAbsent(key, k -> new LongAdder()).increment();
		firstMessages.putIfAbsent(key, oneLine(String.valueOf(e.getMessage())));
		total.increment();
	}

	long total() {
		return total.sum();
	}

	Map<String, Cause> causes() {
		Map<String, Cause> out = new LinkedHashMap<>();
		counts.forEach((k, n) -> out.put(k, new Cause(n.sum(), firstMessages.getOrDefault(k, ""))));
		return out;
	}

	static String key(Throwable e) {
		Throwable root = e;
		while (root.getCause() != null && root.getCause() != root) {
			root = root.getCause();
		}
		String state = sqlState(e);
		return e.getClass().getName() + (root != e ? " <- " + root.getClass().getName() : "")
				+ (state == null ? "" : " [SQLState " + state + "]");
	}

	private static String sqlState(Throwable e) {
		for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
			if (t instanceof R2dbcException r && r.getSqlState() != null) {
				return r.getSqlState();
			}
			if (t instanceof SQLException s && s.getSQLState() != null) {
				return s.getSQLState();
			}
		}
		return null;
	}

	static String oneLine(String s) {
		String flat = s.replace('\t', ' ').replace('\r', ' ').replace('\n', ' ');
		return flat.length() > 300 ? flat.substring(0, 300) + "…" : flat;
	}
}
