package io.tether.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.pool.ConnectionPool;
import io.tether.context.testing.CountingConnectionFactory;
import io.tether.context.testing.Leaks;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The {@link Database} API on a real database: statements find their connection through the Context,
 * every result mode, parameters, batches, generated values, transactions, retries and errors. Each test
 * ends with every acquired connection released exactly once and the pool fully returned.
 */
abstract class DatabaseApiContract {

	static final Duration TIMEOUT = Duration.ofSeconds(30);

	protected ConnectionPool pool;
	protected CountingConnectionFactory counting;
	protected Database db;
	protected String items;

	abstract io.tether.context.testing.Database database();

	/** DDL for an identity column on this database. */
	abstract String identityColumn();

	record Item(int id, String title, String ownerEmail) {
	}

	public static final class ItemBean {
		private int id;
		private String title;

		public int getId() {
			return id;
		}

		public void setId(int id) {
			this.id = id;
		}

		public String getTitle() {
			return title;
		}

		public void setTitle(String title) {
			this.title = title;
		}
	}

	@BeforeEach
	void open() {
		pool = database().pool(4);
		counting = new CountingConnectionFactory(pool);
		db = Database.builder(counting).name(database().name().toLowerCase()).build();
		items = "items_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
		db.sql("create table " + items + " (id int primary key, title varchar(50) not null, owner_email varchar(100))")
				.then().block(TIMEOUT);
	}

	@AfterEach
	void close() {
		try {
			Leaks.assertAllReleased(counting, pool);
		}
		finally {
			db.sql("drop table " + items).then().onErrorResume(e -> Mono.empty()).block(TIMEOUT);
			pool.disposeLater().block(TIMEOUT);
		}
	}

	Mono<Long> insert(int id, String title) {
		return db.sql("insert into " + items + " (id, title, owner_email) values (:id, :title, :email)")
				.bind("id", id).bind("title", title).bind("email", title + "@example.com").rowsUpdated();
	}

	Mono<Void> insertRange(int count) {
		return db.batch("insert into " + items + " (id, title) values (:id, :title)")
				.add(Map.of("id", 0, "title", "t0")).rowsUpdated()
				.then(Flux.range(1, count - 1).concatMap(i -> insert(i, "t" + i)).then());
	}

	int acquiredSoFar() {
		return counting.acquired();
	}

	// ---------------------------------------------------------------- which connection

	@Test
	void aStatementOutsideAnyScopeAcquiresForItselfAndReleasesOnComplete() {
		int before = acquiredSoFar();
		insert(1, "pen").as(StepVerifier::create).expectNext(1L).verifyComplete();
		assertThat(counting.acquired() - before).isEqualTo(1);
		assertThat(counting.released()).isEqualTo(counting.acquired());
	}

	@Test
	void statementsInsideAScopeShareItsConnection() {
		int before = acquiredSoFar();
		int statementsBefore = counting.statements().size();
		db.inConnection(insert(1, "pen").then(insert(2, "ink"))
						.then(db.sql("select count(*) from " + items).mapTo(Long.class).one()))
				.as(StepVerifier::create).expectNext(2L).verifyComplete();
		assertThat(counting.acquired() - before).isEqualTo(1);
		List<CountingConnectionFactory.Executed> ran = counting.statements().subList(statementsBefore, counting.statements().size());
		assertThat(ran).hasSize(3);
		assertThat(ran).extracting(CountingConnectionFactory.Executed::connectionId).containsOnly(ran.get(0).connectionId());
	}

	@Test
	void aLazyScopeThatRunsNoStatementAcquiresNothing() {
		int before = acquiredSoFar();
		db.inLazyConnection(Mono.just("no sql")).as(StepVerifier::create).expectNext("no sql").verifyComplete();
		assertThat(counting.acquired() - before).isZero();
	}

	// ---------------------------------------------------------------- result modes

	@Test
	void mapToARecordByColumnLabel() {
		insert(1, "pen").then(insert(2, "ink")).block(TIMEOUT);
		db.sql("select id, title, owner_email from " + items + " order by id").mapTo(Item.class).all()
				.as(StepVerifier::create)
				.expectNext(new Item(1, "pen", "pen@example.com"), new Item(2, "ink", "ink@example.com"))
				.verifyComplete();
	}

	@Test
	void mapToABean() {
		insert(7, "pen").block(TIMEOUT);
		ItemBean bean = db.sql("select id, title from " + items).mapTo(ItemBean.class).one().block(TIMEOUT);
		assertThat(bean).isNotNull();
		assertThat(bean.getId()).isEqualTo(7);
		assertThat(bean.getTitle()).isEqualTo("pen");
	}

	@Test
	void mapWithAFunction() {
		insert(1, "pen").block(TIMEOUT);
		db.sql("select title from " + items).map(row -> row.get("title", String.class).toUpperCase()).one()
				.as(StepVerifier::create).expectNext("PEN").verifyComplete();
		db.sql("select title from " + items).map((row, metadata) -> metadata.getColumnMetadatas().size()).one()
				.as(StepVerifier::create).expectNext(1).verifyComplete();
	}

	@Test
	void oneIsEmptyForNoRowsAndFailsForTwo() {
		db.sql("select id from " + items).mapTo(Integer.class).one().as(StepVerifier::create).verifyComplete();
		insert(1, "pen").then(insert(2, "ink")).block(TIMEOUT);
		db.sql("select id from " + items).mapTo(Integer.class).one().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IncorrectResultSizeException.class)
						.hasMessageContaining("at most one row").hasMessageContaining("select id from " + items))
				.verify(TIMEOUT);
	}

	@Test
	void firstTakesTheFirstRowAndReleasesTheRest() {
		insertRange(50).block(TIMEOUT);
		db.sql("select id from " + items + " order by id").mapTo(Integer.class).first()
				.as(StepVerifier::create).expectNext(0).verifyComplete();
	}

	@Test
	void allStreamsWithBackPressureAndReleasesOnCancel() {
		insertRange(50).block(TIMEOUT);
		db.sql("select id from " + items + " order by id").mapTo(Integer.class).all()
				.as(flux -> StepVerifier.create(flux, 0))
				.thenRequest(3).expectNext(0, 1, 2)
				.thenRequest(2).expectNext(3, 4)
				.thenCancel()
				.verify(TIMEOUT);
		// the next statement on the same pool works
		db.sql("select count(*) from " + items).mapTo(Long.class).one()
				.as(StepVerifier::create).expectNext(50L).verifyComplete();
	}

	@Test
	void cancellingAStreamInsideAScopeLeavesTheConnectionUsableForTheNextStatement() {
		insertRange(50).block(TIMEOUT);
		db.inConnection(db.sql("select id from " + items + " order by id").mapTo(Integer.class).all().take(5)
						.then(db.sql("select count(*) from " + items).mapTo(Long.class).one()))
				.as(StepVerifier::create).expectNext(50L).verifyComplete();
	}

	@Test
	void rowsUpdatedSumsTheCounts() {
		insertRange(5).block(TIMEOUT);
		db.sql("update " + items + " set title = :t where id in (:ids)").bind("t", "x").bind("ids", List.of(1, 2, 3))
				.rowsUpdated().as(StepVerifier::create).expectNext(3L).verifyComplete();
		db.sql("select count(*) from " + items + " where title = :t").bind("t", "x").mapTo(Long.class).one()
				.as(StepVerifier::create).expectNext(3L).verifyComplete();
	}

	@Test
	void generatedValuesAreReturnedAsRows() {
		String table = "gen_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
		db.sql("create table " + table + " (" + identityColumn() + ", email varchar(50))").then().block(TIMEOUT);
		try {
			Long first = db.sql("insert into " + table + " (email) values (:e)").bind("e", "a@example.com")
					.returnGeneratedValues("id").mapTo(Long.class).one().block(TIMEOUT);
			Long second = db.sql("insert into " + table + " (email) values (:e)").bind("e", "b@example.com")
					.returnGeneratedValues("id").mapTo(Long.class).one().block(TIMEOUT);
			assertThat(first).isNotNull();
			assertThat(second).isEqualTo(first + 1);
		}
		finally {
			db.sql("drop table " + table).then().block(TIMEOUT);
		}
	}

	// ---------------------------------------------------------------- parameters

	@Test
	void repeatedParametersNullsAndMaps() {
		db.sql("insert into " + items + " (id, title, owner_email) values (:id, :title, :email)")
				.bindAll(Map.of("id", 1, "title", "pen")).bindNull("email", String.class).rowsUpdated()
				.as(StepVerifier::create).expectNext(1L).verifyComplete();
		db.sql("select count(*) from " + items + " where id = :id or (id > :id and title = :t) or owner_email is null")
				.bind("id", 1).bind("t", "none").mapTo(Long.class).one()
				.as(StepVerifier::create).expectNext(1L).verifyComplete();
	}

	@Test
	void aParameterErrorIsReportedOnSubscribeAndAcquiresNothing() {
		int before = counting.createSubscriptions();
		Mono<Long> missing = db.sql("select count(*) from " + items + " where id = :id and title = :title")
				.bind("id", 1).mapTo(Long.class).one();
		assertThat(counting.createSubscriptions()).as("nothing happens at assembly").isEqualTo(before);
		missing.as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ParameterException.class).hasMessageContaining("title"))
				.verify(TIMEOUT);
		db.sql("select 1 from " + items + " where id = :id").bind("id", null).mapTo(Integer.class).all()
				.as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ParameterException.class).hasMessageContaining("bindNull"))
				.verify(TIMEOUT);
		assertThat(counting.createSubscriptions()).isEqualTo(before);
	}

	@Test
	void aBindingNamedWithItsColonIsRefusedAtOnce() {
		org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
				.isThrownBy(() -> db.sql("select :id").bind(":id", 1))
				.withMessageContaining("without the colon");
	}

	// ---------------------------------------------------------------- batches

	@Test
	void aBatchRunsEverySetAndReportsEachCount() {
		db.batch("insert into " + items + " (id, title) values (:id, :title)")
				.add(Map.of("id", 1, "title", "a")).add(Map.of("id", 2, "title", "b")).add(Map.of("id", 3, "title", "c"))
				.rowsUpdated().as(StepVerifier::create).expectNext(1L, 1L, 1L).verifyComplete();
		db.sql("select title from " + items + " order by id").mapTo(String.class).all().collectList()
				.as(StepVerifier::create).expectNext(List.of("a", "b", "c")).verifyComplete();
	}

	@Test
	void anEmptyBatchOrOneThatExpandsUnevenlyFails() {
		db.batch("insert into " + items + " (id, title) values (:id, :title)").rowsUpdated().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ParameterException.class).hasMessageContaining("add("))
				.verify(TIMEOUT);
		db.batch("delete from " + items + " where id in (:ids)").add(Map.of("ids", List.of(1))).add(Map.of("ids", List.of(1, 2)))
				.rowsUpdated().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ParameterException.class).hasMessageContaining("Set 1"))
				.verify(TIMEOUT);
	}

	// ---------------------------------------------------------------- transactions and errors

	@Test
	void aTransactionCommitsAllOrNothing() {
		db.inTransaction(insert(1, "pen").then(insert(2, "ink"))).as(StepVerifier::create).expectNext(1L).verifyComplete();
		db.inTransaction(insert(3, "cup").then(insert(1, "duplicate"))).as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(DuplicateKeyException.class))
				.verify(TIMEOUT);
		db.sql("select id from " + items + " order by id").mapTo(Integer.class).all().collectList()
				.as(StepVerifier::create).expectNext(List.of(1, 2)).verifyComplete();
	}

	@Test
	void aDuplicateKeyIsTranslatedWithSqlStateAndSqlButNoValues() {
		insert(1, "pen").block(TIMEOUT);
		db.sql("insert into " + items + " (id, title) values (:id, :title)").bind("id", 1).bind("title", "secret-value-42")
				.rowsUpdated().as(StepVerifier::create)
				.expectErrorSatisfies(e -> {
					assertThat(e).isInstanceOf(DuplicateKeyException.class);
					DataAccessException d = (DataAccessException) e;
					assertThat(d.sqlState()).isEqualTo("23505");
					assertThat(d.sql()).contains("insert into " + items);
					assertThat(d.isTransient()).isFalse();
					assertThat(e.getMessage()).doesNotContain("secret-value-42");
				})
				.verify(TIMEOUT);
	}

	@Test
	void bindValuesAppearInErrorMessagesOnlyWhenOptedIn() {
		insert(1, "pen").block(TIMEOUT);
		Database verbose = Database.builder(counting).bindValuesInErrors(true).build();
		verbose.sql("insert into " + items + " (id, title) values (:id, :title)").bind("id", 1).bind("title", "visible-value-7")
				.rowsUpdated().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(DuplicateKeyException.class)
						.hasMessageContaining("with values [1, visible-value-7]"))
				.verify(TIMEOUT);
	}

	@Test
	void badSqlIsTranslated() {
		db.sql("selec id from " + items).mapTo(Integer.class).all().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(BadSqlGrammarException.class)
						.hasMessageContaining("selec id from"))
				.verify(TIMEOUT);
	}

	@Test
	void aTransactionIsRetriedWhenThePolicyAcceptsTheError() {
		AtomicInteger attempts = new AtomicInteger();
		Mono<Long> body = Mono.defer(() -> attempts.incrementAndGet() < 3
				? insert(10, "first-attempt").then(insert(1, "conflict"))
				: insert(10, "last-attempt"));
		insert(1, "pen").block(TIMEOUT);
		RetryPolicy retry = RetryPolicy.onConflict(3).backoff(Duration.ofMillis(1), Duration.ofMillis(5))
				.retryIf(e -> e instanceof DuplicateKeyException);
		db.inTransaction(io.tether.context.TransactionOptions.defaults(), retry, body)
				.as(StepVerifier::create).expectNext(1L).verifyComplete();
		assertThat(attempts).hasValue(3);
		db.sql("select title from " + items + " where id = 10").mapTo(String.class).all()
				.as(StepVerifier::create).expectNext("last-attempt").verifyComplete();
	}

	@Test
	void retriesStopAtTheLimitWithTheLastError() {
		AtomicInteger attempts = new AtomicInteger();
		insert(1, "pen").block(TIMEOUT);
		RetryPolicy retry = RetryPolicy.onConflict(2).backoff(Duration.ofMillis(1), Duration.ofMillis(5))
				.retryIf(e -> e instanceof DuplicateKeyException);
		db.inTransaction(io.tether.context.TransactionOptions.defaults(), retry,
						Mono.defer(() -> { attempts.incrementAndGet(); return insert(1, "again"); }))
				.as(StepVerifier::create).expectError(DuplicateKeyException.class).verify(TIMEOUT);
		assertThat(attempts).hasValue(3);
	}

	@Test
	void aTransactionThatJoinsAnOuterOneIsNeverRetried() {
		AtomicInteger attempts = new AtomicInteger();
		insert(1, "pen").block(TIMEOUT);
		RetryPolicy retry = RetryPolicy.onConflict(3).backoff(Duration.ofMillis(1), Duration.ofMillis(5))
				.retryIf(e -> e instanceof DuplicateKeyException);
		db.inTransaction(db.inTransaction(io.tether.context.TransactionOptions.defaults(), retry,
						Mono.defer(() -> { attempts.incrementAndGet(); return insert(1, "again"); })))
				.as(StepVerifier::create).expectError(DuplicateKeyException.class).verify(TIMEOUT);
		assertThat(attempts).hasValue(1);
	}

	// ---------------------------------------------------------------- lifecycle

	@Test
	void aClosedDatabaseRefusesStatementsButLeavesAGivenPoolOpen() {
		Database other = Database.of(counting);
		other.closeLater().as(StepVerifier::create).verifyComplete();
		assertThat(other.isClosed()).isTrue();
		other.sql("select 1").mapTo(Integer.class).one().as(StepVerifier::create)
				.expectErrorSatisfies(e -> assertThat(e).isInstanceOf(NonTransientConnectionException.class).hasMessageContaining("closed"))
				.verify(TIMEOUT);
		assertThat(pool.isDisposed()).isFalse();
		db.sql("select count(*) from " + items).mapTo(Long.class).one().as(StepVerifier::create).expectNext(0L).verifyComplete();
	}
}
