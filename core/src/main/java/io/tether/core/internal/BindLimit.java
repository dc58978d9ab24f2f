package io.tether.core.internal;

import java.util.Locale;

/**
 * The most bind values one statement may carry on a database, and what to do instead, so that an
 * {@code in (:ids)} expanded past it fails as a {@link io.tether.core.ParameterException} before anything
 * is sent, rather than deep in the wire protocol (PostgreSQL answers 70,000 values with "invalid message
 * format", SQLState 08P01, and the connection is lost).
 *
 * @param max the largest number of bind markers allowed, {@link Integer#MAX_VALUE} for no known limit
 * @param database how messages name the database
 * @param remedy what to write instead of a long IN-list on that database
 */
public record BindLimit(int max, String database, String remedy) {

	/** No known limit. */
	public static final BindLimit NONE = new BindLimit(Integer.MAX_VALUE, "the database", "");

	private static final String ARRAY = "pass the values as one array instead: '= any(:name)' bound to an array"
			+ " (e.g. ids.toArray(new Long[0])), or split the list into chunks";

	/**
	 * The limit of the driver named {@code driverName} (as in {@code ConnectionFactoryMetadata.getName()}):
	 * PostgreSQL 65,535 (the protocol counts parameters in 16 bits), H2 100,000
	 * ({@code org.h2.engine.Constants.MAX_PARAMETER_INDEX}), MariaDB and MySQL 65,535, SQL Server 2,100;
	 * {@link #NONE} for other drivers.
	 */
	public static BindLimit forDriver(String driverName) {
		String name = driverName.toLowerCase(Locale.ROOT);
		if (name.contains("postgres") || name.contains("cockroach") || name.contains("yugabyte")) {
			return new BindLimit(65_535, driverName, ARRAY);
		}
		if (name.equals("h2")) {
			return new BindLimit(100_000, driverName, ARRAY);
		}
		if (name.contains("mariadb") || name.contains("mysql")) {
			return new BindLimit(65_535, driverName, "split the list into chunks, or insert the values into a temporary"
					+ " table and join it");
		}
		if (name.contains("sql server") || name.contains("sqlserver") || name.contains("mssql")) {
			return new BindLimit(2_100, driverName, "split the list into chunks, or pass a table-valued parameter");
		}
		return new BindLimit(Integer.MAX_VALUE, driverName, "");
	}

	/** A limit set by the application ({@code Database.Builder#maxBindParameters}). */
	public static BindLimit of(int max, String database) {
		return new BindLimit(max, database, "split the list into chunks");
	}
}
