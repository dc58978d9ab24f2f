package io.tether.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.tether.core.Database;
import io.tether.pool.TetherPool;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import reactor.test.StepVerifier;

/** What the extension provides: parameters, fields, constructor parameters, the schema, one set per class. */
@TetherTest(schema = "kit-schema.sql", poolSize = 2)
class TetherExtensionTest {

	final Database fromConstructor;
	Database field;
	TetherPool pool;

	TetherExtensionTest(Database db) {
		this.fromConstructor = db;
	}

	@Test
	void parametersFieldsAndConstructorShareOneDatabaseOverTheRecorderOverThePool(Database db, Rollback rollback,
			RecordingConnectionFactory recorder, TetherPool poolParameter) {
		assertThat(db).isSameAs(field).isSameAs(fromConstructor);
		assertThat(rollback.database()).isSameAs(db);
		assertThat(db.connectionFactory()).isSameAs(recorder);
		assertThat(recorder.unwrap()).isSameAs(poolParameter).isSameAs(pool);
		assertThat(poolParameter.settings().maxSize()).isEqualTo(2);
		assertThat(db.name()).isEqualTo("tether-test:TetherExtensionTest");
	}

	@Test
	void theSchemaRanBeforeTheFirstTestAndOutsideTheRecorder(Database db, RecordingConnectionFactory recorder) {
		assertThat(recorder.acquisitions()).isZero();
		StepVerifier.create(db.sql("select owner from account order by id").mapTo(String.class).all())
				.expectNext("alice", "bob")
				.verifyComplete();
		assertThat(recorder.acquisitions()).isEqualTo(1);
	}

	@Test
	void theRecorderStartsEveryTestEmpty(RecordingConnectionFactory recorder) {
		assertThat(recorder.acquisitions()).isZero();
		assertThat(recorder.statements()).isEmpty();
	}

	@Nested
	class NestedClasses {

		@Test
		void shareTheOuterClassDatabase(Database db) {
			assertThat(db).isSameAs(fromConstructor);
		}
	}

	@Test
	void aMissingSchemaResourceFailsTheClassSayingWhich() {
		EngineExecutionResults results = EngineTestKit.engine("junit-jupiter").selectors(selectClass(MissingSchema.class)).execute();
		Throwable error = results.containerEvents().failed().stream()
				.map(e -> e.getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow())
				.findFirst().orElseThrow();
		assertThat(error).isInstanceOf(ExtensionConfigurationException.class)
				.hasMessage("@TetherTest(schema) resource 'no-such-schema.sql' is not on the classpath of "
						+ MissingSchema.class.getName());
	}

	@Test
	void aFailingSchemaStatementFailsTheClassNamingIt() {
		EngineExecutionResults results = EngineTestKit.engine("junit-jupiter").selectors(selectClass(BrokenSchema.class)).execute();
		Throwable error = results.containerEvents().failed().stream()
				.map(e -> e.getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow())
				.findFirst().orElseThrow();
		assertThat(error).isInstanceOf(ExtensionConfigurationException.class)
				.hasMessageStartingWith("Schema script 'broken-schema.sql' failed at statement 2: creat table oops (id int)");
	}

	@Test
	void theDatabaseAndPoolAreClosedAfterTheClass() {
		EngineExecutionResults results = EngineTestKit.engine("junit-jupiter").selectors(selectClass(KeepsItsPool.class)).execute();
		results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1));
		assertThat(KeepsItsPool.pool.isClosed()).isTrue();
		assertThat(KeepsItsPool.db.isClosed()).isTrue();
	}

	@TetherTest
	static class KeepsItsPool {

		static TetherPool pool;
		static Database db;

		@Test
		void keeps(TetherPool p, Database d) {
			pool = p;
			db = d;
			assertThat(p.isClosed()).isFalse();
		}
	}

	@TetherTest(schema = "no-such-schema.sql")
	static class MissingSchema {

		@Test
		void neverRuns() {
		}
	}

	@TetherTest(schema = "broken-schema.sql")
	static class BrokenSchema {

		@Test
		void neverRuns() {
		}
	}
}
