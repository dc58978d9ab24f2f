package io.tether.context.internal;

import reactor.core.publisher.Mono;

/** Sequencing helpers for release paths, where later steps must run even if earlier ones fail. */
final class Cleanup {

	private Cleanup() {
	}

	/**
	 * Runs {@code first}, then {@code second} whatever the outcome of {@code first}. The first error
	 * wins; an error of {@code second} after a failed {@code first} is attached as suppressed.
	 * {@code second} must be cold (it is subscribed on one path or the other, once).
	 */
	static Mono<Void> andAlways(Mono<Void> first, Mono<Void> second) {
		return first.onErrorResume(e -> second
				.onErrorResume(e2 -> {
					e.addSuppressed(e2);
					return Mono.empty();
				})
				.then(Mono.error(e)))
				.then(second);
	}
}
