package io.tether.examples;

// tour:quickstart
import io.tether.core.Database;
import reactor.core.publisher.Flux;

public final class QuickStart {

	record Greeting(int id, String text) {
	}

	public static void main(String[] args) {
		try (Database db = Database.connect("r2dbc:h2:mem:///quickstart?options=DB_CLOSE_DELAY=-1")) {
			Flux<Greeting> greetings = db.inTransaction(
					db.sql("create table greeting (id int primary key, text varchar(50))").then()
							.then(db.sql("insert into greeting values (:id, :text)").bind("id", 1).bind("text", "hello").then())
							.then(db.sql("insert into greeting values (:id, :text)").bind("id", 2).bind("text", "world").then()))
					.thenMany(db.sql("select id, text from greeting order by id").mapTo(Greeting.class).all());

			greetings.doOnNext(System.out::println).blockLast();   // block() only at the edge of a program
		}
	}
}
// end
