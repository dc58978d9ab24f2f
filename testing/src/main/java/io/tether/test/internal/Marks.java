package io.tether.test.internal;

import java.util.Set;
import java.util.HashSet;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * What the kit puts in the Reactor Context of the pipelines it is given, under one key: whether the pipeline
 * runs inside {@code Rollback}, and the probes it is wrapped in. A recording factory reads it when
 * {@code create()} is subscribed, which is how an acquisition is known to belong to a pipeline the test
 * handed to the kit, rather than to code that lost the Context on the way.
 */
public final class Marks {

	/** The Context key; a private type, so no application key can collide with it. */
	private static final Object KEY = new Object() {
		@Override
		public String toString() {
			return "tether.test.marks";
		}
	};

	public static final Marks NONE = new Marks(false, Set.of());

	private final boolean rollback;
	private final Set<Object> probes;

	private Marks(boolean rollback, Set<Object> probes) {
		this.rollback = rollback;
		this.probes = probes;
	}

	public static Marks of(ContextView ctx) {
		return ctx.getOrDefault(KEY, NONE);
	}

	/** {@code ctx} with the rollback mark added. */
	public static Context withRollback(Context ctx) {
		Marks m = of(ctx);
		return m.rollback ? ctx : ctx.put(KEY, new Marks(true, m.probes));
	}

	/** {@code ctx} with {@code probe} added to the probes. */
	public static Context withProbe(Context ctx, Object probe) {
		Marks m = of(ctx);
		if (m.probes.contains(probe)) {
			return ctx;
		}
		Set<Object> probes = new HashSet<>(m.probes);
		probes.add(probe);
		return ctx.put(KEY, new Marks(m.rollback, Set.copyOf(probes)));
	}

	/** Whether any mark is present: the acquisition happened in a pipeline handed to the kit. */
	public boolean isMarked() {
		return rollback || !probes.isEmpty();
	}

	public boolean rollback() {
		return rollback;
	}

	public boolean hasProbe(Object probe) {
		return probes.contains(probe);
	}

	@Override
	public String toString() {
		return "Marks[rollback=" + rollback + ", probes=" + probes.size() + "]";
	}
}
