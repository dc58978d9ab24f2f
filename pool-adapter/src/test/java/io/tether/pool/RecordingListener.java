package io.tether.pool;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records every pool event as text, e.g. {@code evicted:maxUses}. */
final class RecordingListener implements PoolListener {

	final List<String> events = new CopyOnWriteArrayList<>();
	final List<Throwable> leakStacks = new CopyOnWriteArrayList<>();

	List<String> of(String kind) {
		return events.stream().filter(e -> e.startsWith(kind + ":") || e.equals(kind)).toList();
	}

	@Override
	public void acquired(Duration waited) {
		events.add("acquired:" + waited.toMillis());
	}

	@Override
	public void released(Duration held) {
		events.add("released:" + held.toMillis());
	}

	@Override
	public void timedOut(Duration waited) {
		events.add("timedOut:" + waited.toMillis());
	}

	@Override
	public void leakSuspected(Duration held, Throwable acquiredAt) {
		events.add("leakSuspected:" + held.toMillis());
		if (acquiredAt != null) {
			leakStacks.add(acquiredAt);
		}
	}

	@Override
	public void evicted(String reason) {
		events.add("evicted:" + reason);
	}

	@Override
	public void validationFailed(Throwable error) {
		events.add("validationFailed:" + error.getMessage());
	}

	@Override
	public void created(Duration took) {
		events.add("created");
	}

	@Override
	public void destroyed() {
		events.add("destroyed");
	}
}
