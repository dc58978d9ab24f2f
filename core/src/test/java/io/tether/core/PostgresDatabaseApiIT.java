package io.tether.core;

/** {@link DatabaseApiContract} on the PostgreSQL server. */
class PostgresDatabaseApiIT extends DatabaseApiContract {

	@Override
	io.tether.context.testing.Database database() {
		return io.tether.context.testing.Database.POSTGRES;
	}

	@Override
	String identityColumn() {
		return "id bigserial primary key";
	}
}
