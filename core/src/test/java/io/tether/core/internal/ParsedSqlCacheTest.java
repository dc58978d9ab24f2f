package io.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.core.InvalidSqlException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The bounded cache behind {@link ParsedSql#parse}. */
class ParsedSqlCacheTest {

	@Test
	void equalSqlStringsShareOneParsedInstance() {
		NamedSqlCache cache = new NamedSqlCache(8);

		ParsedSql first = cache.get(new String("select :a"));

		assertThat(cache.get(new String("select :a"))).isSameAs(first);
		assertThat(cache.size()).isEqualTo(1);
	}

	@Test
	void sizeStaysWithinTheCapacity() {
		NamedSqlCache cache = new NamedSqlCache(16);

		for (int i = 0; i < 1_000; i++) {
			cache.get("select :a where x = " + i);
			assertThat(cache.size()).isLessThanOrEqualTo(16);
		}
	}

	/** Second chance: an entry used between sweeps survives any number of one-off statements. */
	@Test
	void entriesInUseSurviveEviction() {
		NamedSqlCache cache = new NamedSqlCache(16);
		String hot = "select * from t where id = :id";
		ParsedSql parsed = cache.get(hot);

		for (int i = 0; i < 1_000; i++) {
			cache.get("select :a where x = " + i);
			assertThat(cache.get(hot)).isSameAs(parsed);
		}
		assertThat(cache.contains(hot)).isTrue();
	}

	@Test
	void veryLongSqlIsParsedButNotKept() {
		NamedSqlCache cache = new NamedSqlCache(16);
		String sql = "select :a, '" + "x".repeat(NamedSqlCache.MAX_CACHED_LENGTH) + "'";

		assertThat(cache.get(sql).parameterNames()).containsExactly("a");
		assertThat(cache.contains(sql)).isFalse();
		assertThat(cache.size()).isZero();
	}

	@Test
	void invalidSqlIsNotCached() {
		NamedSqlCache cache = new NamedSqlCache(16);

		assertThatThrownBy(() -> cache.get("select 'x")).isInstanceOf(InvalidSqlException.class);
		assertThatThrownBy(() -> cache.get("select 'x")).isInstanceOf(InvalidSqlException.class);
		assertThat(cache.size()).isZero();
	}

	@Test
	void capacityMustBePositive() {
		assertThatIllegalArgumentException().isThrownBy(() -> new NamedSqlCache(0)).withMessage("capacity must be >= 1, was 0");
	}

	/**
	 * Threads hitting and missing at once get correct results, and once they stop the size is within the
	 * capacity: a working set of 100 hot statements for 32 slots keeps every entry marked as used, which
	 * once left the cache at 100 entries, and inserts racing a sweep were once left unswept.
	 */
	@Test
	void concurrentUseGivesCorrectResultsAndStaysBounded() throws InterruptedException {
		int capacity = 32;
		int threads = 4;
		NamedSqlCache cache = new NamedSqlCache(capacity);
		CountDownLatch start = new CountDownLatch(1);
		ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
		List<Thread> workers = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			int offset = t;
			Thread worker = new Thread(() -> {
				try {
					start.await();
					for (int i = 0; i < 5_000; i++) {
						int n = (i * 7 + offset) % 100;
						ParsedSql parsed = cache.get("select :p" + n + " from t" + n);
						if (!parsed.parameterNames().equals(List.of("p" + n))) {
							throw new AssertionError("wrong names " + parsed.parameterNames() + " for p" + n);
						}
					}
				}
				catch (Throwable e) {
					failures.add(e);
				}
			});
			worker.start();
			workers.add(worker);
		}
		start.countDown();
		for (Thread worker : workers) {
			worker.join();
		}

		assertThat(failures).isEmpty();
		assertThat(cache.size()).isLessThanOrEqualTo(capacity);
	}
}
