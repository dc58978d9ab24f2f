package io.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.slf4j.event.EventRecordingLogger;
import org.slf4j.event.Level;
import org.slf4j.event.SubstituteLoggingEvent;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.SubstituteLogger;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

class StatementLogTest {

	final Queue<SubstituteLoggingEvent> events = new ConcurrentLinkedQueue<>();
	final EventRecordingLogger logger = new EventRecordingLogger(new SubstituteLogger("io.tether.sql", events, false), events);
	final BoundSql bound = new BoundSql("select * from users where email = $1", List.of("alice@example.com"));

	List<String> messages(Level level) {
		return events.stream().filter(e -> e.getLevel() == level)
				.map(e -> MessageFormatter.arrayFormat(e.getMessage(), e.getArgumentArray()).getMessage()).toList();
	}

	@Test
	void aStatementIsLoggedAtDebugWithoutItsValues() {
		StatementLog log = new StatementLog(logger, "db", Duration.ofSeconds(10), false, false);
		log.around("select * from users where email = :email", bound, Flux.just(1)).as(StepVerifier::create)
				.expectNext(1).verifyComplete();
		assertThat(messages(Level.DEBUG)).hasSize(2);
		assertThat(messages(Level.DEBUG).get(0)).contains("[db] executing: select * from users where email = $1")
				.doesNotContain("alice");
		assertThat(messages(Level.DEBUG).get(1)).contains("completed");
		assertThat(messages(Level.WARN)).isEmpty();
	}

	@Test
	void valuesAreLoggedOnlyWhenEnabled() {
		StatementLog log = new StatementLog(logger, "db", Duration.ofSeconds(10), true, false);
		log.around("select", bound, Flux.just(1)).blockLast();
		assertThat(messages(Level.DEBUG).get(0)).contains("with values [alice@example.com]");
	}

	@Test
	void aStatementSlowerThanTheThresholdIsAWarning() {
		// The log measures wall-clock time (virtual time does not apply); a tiny threshold keeps the real wait short.
		StatementLog strict = new StatementLog(logger, "db", Duration.ofNanos(1), false, false);
		strict.around("select * from users where email = :email", bound, Flux.just(1).delayElements(Duration.ofMillis(2)))
				.blockLast();
		assertThat(messages(Level.WARN)).singleElement().asString()
				.contains("[db] slow statement:")
				.contains("completed")
				.contains("select * from users where email = :email")
				.doesNotContain("alice");
	}

	@Test
	void aZeroThresholdTurnsTheWarningOff() {
		StatementLog log = new StatementLog(logger, "db", Duration.ZERO, false, false);
		log.around("select", bound, Flux.just(1).delayElements(Duration.ofMillis(2))).blockLast();
		assertThat(messages(Level.WARN)).isEmpty();
	}
}
