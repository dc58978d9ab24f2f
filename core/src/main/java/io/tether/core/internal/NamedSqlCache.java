package io.tether.core.internal;

import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounded, thread-safe cache of {@link ParsedSql} per SQL string. A hit is one {@link ConcurrentHashMap}
 * lookup and, the first time after an eviction sweep, one volatile write. When an insert takes the size
 * over the capacity, one thread sweeps with the "second chance" (clock) rule: entries used since the last
 * sweep lose their mark and stay, others are removed, until an eighth of the capacity is free, so the cost
 * of evicting is paid once per many misses; if that is not enough (everything in use), a second round
 * removes entries regardless of their mark. The sweep takes a lock only with {@code tryLock}: no thread
 * ever waits (or parks, which BlockHound would report) for the cache, and a thread that finds a sweep under
 * way leaves its entry to that sweep. While threads insert, the size can briefly exceed the capacity; once
 * they stop, it is within it.
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
		// A thread whose tryLock fails leaves its insert to the sweeper, which looks at the size again after
		// unlocking: an insert is either seen by that check or made after the unlock, when its own tryLock
		// succeeds. So no insert goes unswept, and once inserts stop the size is within the capacity.
		while (entries.size() > capacity && sweepLock.tryLock()) {
			try {
				sweepOnce();
			}
			finally {
				sweepLock.unlock();
			}
		}
	}

	private void sweepOnce() {
		// First round: second chance for entries used since the last sweep. Second round: remove
		// whatever comes, marked or not, as other threads may re-mark entries as fast as the first
		// round clears them; without it a working set larger than the capacity, all of it in use,
		// would never be evicted.
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
		it = entries.values().iterator();
		while (it.hasNext() && entries.size() > sweepTarget) {
			it.next();
			it.remove();
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
