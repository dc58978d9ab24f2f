package io.tether.examples.service;

import io.tether.core.Database;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/** {@link SchemaCheckContract} on an in-memory H2 database of its own per test. */
class H2SchemaCheckTest extends SchemaCheckContract {

	private final String url = DemoConfig.inMemoryH2("check_" + UUID.randomUUID().toString().replace("-", ""));

	@Override
	String databaseUrl() {
		return url;
	}

	@Override
	void run(String sql) {
		try (Database db = Database.connect(url)) {
			db.sql(sql).then().block();
		}
	}

	@Override
	List<String> tables() {
		try (Database db = Database.connect(url)) {
			return db.sql("select table_name from information_schema.tables where table_schema = 'PUBLIC' order by table_name")
					.mapTo(String.class).all().map(t -> t.toLowerCase(Locale.ROOT)).collectList().block();
		}
	}

	@Override
	int units(int characters) {
		return 2 * characters;   // H2 counts UTF-16 units
	}
}
