package io.tether.core.internal;

import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounded, thread-safe cache of {@link ParsedSql} per SQL string. A hit is one {@link ConcurrentHashMap}
 * lookup and, the first time after an eviction sweep, one volatile write. When an insert takes the size
 * over the capacity, one thread sweeps with the "second chance" (clock) rule: entries used since the last
 * sweep lose their mark and stay, others are removed, until an eighth of the capacity is free, so the cost
 * of evicting is paid once per many misses. The sweep takes a lock only with {@code tryLock}: no thread
 * ever waits (or parks) for the cache, and a thread that finds a sweep under way leaves it to that sweep,
 * so the size can briefly exceed the capacity by the number of threads inserting at the same moment.
 *
 * <p>SQL longer than {@link #MAX_CACHED_LENGTH} characters is parsed every time: keeping it would let a few
 * huge generated statements hold a lot of memory, and parsing costs about as much as sending it.
 */
final class NamedSqlCache {

	static final int MAX_CACHED_LENGTH = 65_536;

	private final int capacity;
	private final int sweepTarget;
	private final ConcurrentHashMap<String, Entry> entries;
	private final ReentrantLock sweepLock = new ReentrantLock();

	NamedSqlCache(int capacity) {
		if (capacity < 1) {
			throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
		}
		this.capacity = capacity;
		this.sweepTarget = capacity - capacity / 8;
		this.entries = new ConcurrentHashMap<>(Math.min(capacity, 1024) * 4 / 3 + 1);
	}

	ParsedSql get(String sql) {
		Entry entry = entries.get(sql);
		if (entry != null) {
			if (!entry.used) {
				entry.used = true;
			}
			return entry.parsed;
		}
		ParsedSql parsed = ParsedSql.parseUncached(sql);
		if (sql.length() > MAX_CACHED_LENGTH) {
			return parsed;
		}
		Entry raced = entries.putIfAbsent(sql, new Entry(parsed));
		if (raced != null) {
			return raced.parsed;
		}
		if (entries.size() > capacity) {
			sweep();
		}
		return parsed;
	}

	int size() {
		return entries.size();
	}

	boolean contains(String sql) {
		return entries.containsKey(sql);
	}

	private void sweep() {
		if (!sweepLock.tryLock()) {
			return;
		}
		try {
			// two rounds at most: the first clears every mark it keeps, so the second can always remove
			for (int round = 0; round < 2 && entries.size() > sweepTarget; round++) {
				Iterator<Entry> it = entries.values().iterator();
				while (it.hasNext() && entries.size() > sweepTarget) {
					Entry entry = it.next();
					if (entry.used) {
						entry.used = false;
					}
					else {
						it.remove();
					}
				}
			}
		}
		finally {
			sweepLock.unlock();
		}
	}

	private static final class Entry {

		final ParsedSql parsed;
		volatile boolean used;

		Entry(ParsedSql parsed) {
			this.parsed = parsed;
		}
	}
}
