package io.tether.benchmarks.load;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A closed loop: {@code inFlight} workers, each starting its next operation as soon as its last one ended
 * (success or error), for a warm-up and then a measured window, without a pause between the two. What is
 * measured: operations that succeeded in the window, the process CPU time spent in the window (every thread
 * of this JVM: the peer's event loops, pool threads, GC and JIT), and the machine's busy cores in the window
 * from {@code /proc/stat} (so a disturbed window shows).
 */
final class ClosedLoop {

	/** What one window measured. */
	record Window(long ops, long nanos, long cpuNanos, double machineBusyCores, long errorsInWindow, long gcCount,
			long jitMillis, long warmupMillis) {
	}

	/** Warm-up goes on in slices of this length while the JIT compiler was busy for more than {@link #JIT_QUIET} of one. */
	private static final Duration SLICE = Duration.ofSeconds(2);
	private static final double JIT_QUIET = 0.05;

	private final AtomicBoolean stop = new AtomicBoolean();
	private final LongAdder done = new LongAdder();
	private final Errors errors = new Errors();
	private final Workload workload;
	private final int users;

	ClosedLoop(Workload workload, int users) {
		this.workload = workload;
		this.users = users;
	}

	Errors errors() {
		return errors;
	}

	private long randomId() {
		return ThreadLocalRandom.current().nextLong(1, users + 1L);
	}

	Window run(Peer peer, Duration warmup, Duration window, Duration drainTimeout, @Nullable Path jfr) throws Exception {
		CompletableFuture<?> finished;
		if (peer instanceof Peer.Reactive r) {
			finished = startReactive(r);
		}
		else {
			List<Thread> threads = startBlocking((Peer.Blocking) peer);
			finished = CompletableFuture.runAsync(() -> threads.forEach(ClosedLoop::joinQuietly));
		}
		long warmupStart = System.nanoTime();
		// On a shared 2-core machine the JIT can still be compiling the peer's hot paths after a fixed warm-up,
		// and compilation would then be counted as the peer's CPU per operation: after the minimum, warm on
		// (up to twice the minimum plus 10 s) until two slices in a row pass with the compiler nearly idle (one
		// quiet slice was seen to be followed by seconds of compilation). Every slice is logged.
		long minimumEnd = warmupStart + warmup.toNanos();
		long maximumEnd = warmupStart + 2 * warmup.toNanos() + Duration.ofSeconds(10).toNanos();
		Snapshot last = Snapshot.take(done, errors);
		int quietSlices = 0;
		while (true) {
			long left = minimumEnd - System.nanoTime();
			Thread.sleep(Math.max(1, Math.min(SLICE.toMillis(), left > 0 ? left / 1_000_000 : SLICE.toMillis())));
			Snapshot now = Snapshot.take(done, errors);
			long jit = now.jitMillis - last.jitMillis;
			long ops = now.ops - last.ops;
			System.out.printf(java.util.Locale.ROOT, "warm-up %5.1f s: %,8.0f ops/s, %7.1f µs CPU/op, JIT %4d ms, %d errors%n",
					(now.nanos - warmupStart) / 1e9, ops * 1e9 / (now.nanos - last.nanos),
					ops == 0 ? Double.NaN : (now.cpuNanos - last.cpuNanos) / 1e3 / ops, jit, now.errors - last.errors);
			quietSlices = jit <= JIT_QUIET * (now.nanos - last.nanos) / 1e6 ? quietSlices + 1 : 0;
			last = now;
			if (now.nanos >= maximumEnd || (now.nanos >= minimumEnd && quietSlices >= 2)) {
				break;
			}
		}
		long warmupMillis = (System.nanoTime() - warmupStart) / 1_000_000;
		Recording recording = null;
		if (jfr != null) {
			recording = new Recording(Configuration.getConfiguration("profile"));
			// 20 ms, the profile's period, gave ~100 samples in a 10 s window on a starved machine.
			recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1));
			recording.start();
		}
		Snapshot start = Snapshot.take(done, errors);
		Thread.sleep(window.toMillis());
		Snapshot end = Snapshot.take(done, errors);
		if (recording != null) {
			recording.stop();
			recording.dump(jfr);
			recording.close();
		}
		stop.set(true);
		try {
			finished.get(drainTimeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (TimeoutException e) {
			errors.record(new IllegalStateException("operations still in flight " + drainTimeout.toSeconds()
					+ " s after the window ended: the peer is stuck"));
		}
		return new Window(end.ops - start.ops, end.nanos - start.nanos, end.cpuNanos - start.cpuNanos,
				ProcStat.busyCores(start.procStat, end.procStat), end.errors - start.errors, end.gcCount - start.gcCount,
				end.jitMillis - start.jitMillis, warmupMillis);
	}

	private CompletableFuture<Void> startReactive(Peer.Reactive peer) {
		// Subscribed from a thread of its own, so that an operation that fails synchronously cannot hold main.
		Scheduler starter = Schedulers.newSingle("loadbench-start");
		return Flux.range(0, workload.inFlight())
				.flatMap(i -> Mono.defer(() -> operation(peer))
						.switchIfEmpty(Mono.error(() -> new IllegalStateException("the operation returned no row")))
						.doOnNext(x -> done.increment())
						.onErrorResume(e -> {
							errors.record(e);
							return Mono.empty();
						})
						.repeat(() -> !stop.get())
						.then(), workload.inFlight())
				.then()
				.subscribeOn(starter)
				.doFinally(s -> starter.dispose())
				.toFuture();
	}

	private Mono<?> operation(Peer.Reactive peer) {
		return workload.isW2() ? peer.w2(randomId(), randomId()) : peer.w1(randomId());
	}

	private List<Thread> startBlocking(Peer.Blocking peer) {
		List<Thread> threads = new ArrayList<>();
		for (int i = 0; i < workload.inFlight(); i++) {
			Thread t = new Thread(() -> {
				while (!stop.get()) {
					try {
						Object result = workload.isW2() ? peer.w2(randomId(), randomId()) : peer.w1(randomId());
						if (result != null) {
							done.increment();
						}
					}
					catch (Exception | AssertionError e) {
						errors.record(e);
					}
				}
			}, "loadbench-worker-" + i);
			t.start();
			threads.add(t);
		}
		return threads;
	}

	private static void joinQuietly(Thread t) {
		try {
			t.join();
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	private record Snapshot(long ops, long errors, long nanos, long cpuNanos, long[] procStat, long gcCount, long jitMillis) {
		static Snapshot take(LongAdder done, Errors errors) {
			long gc = 0;
			for (var b : ManagementFactory.getGarbageCollectorMXBeans()) {
				gc += Math.max(0, b.getCollectionCount());
			}
			return new Snapshot(done.sum(), errors.total(), System.nanoTime(), processCpuNanos(), ProcStat.read(), gc, ClosedLoop.jitMillis());
		}
	}

	/** Time the JIT compiler threads spent compiling so far (they count in the process CPU time too). */
	static long jitMillis() {
		var jit = ManagementFactory.getCompilationMXBean();
		return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
	}

	static long processCpuNanos() {
		return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
	}
}
