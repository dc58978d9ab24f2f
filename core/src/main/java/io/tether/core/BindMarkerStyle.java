package io.tether.core;

import io.tether.core.internal.BindMarkers;
import java.util.Locale;

/**
 * The bind-marker syntax a driver expects, to which Tether rewrites {@code :name} parameters. Chosen from
 * the driver's name by default; set it with {@link Database.Builder#bindMarkers} for other drivers.
 *
 * @since 0.1
 */
public enum BindMarkerStyle {

	/** {@code $1, $2, ...}: PostgreSQL and H2. */
	DOLLAR_NUMBERED(BindMarkers.POSTGRES_STYLE),

	/** {@code ?}: MariaDB and MySQL. */
	QUESTION_MARK(BindMarkers.QUESTION_MARK),

	/** {@code @P0, @P1, ...}: SQL Server. */
	AT_NAMED(index -> "@P" + index);

	private final BindMarkers markers;

	BindMarkerStyle(BindMarkers markers) {
		this.markers = markers;
	}

	BindMarkers markers() {
		return markers;
	}

	/**
	 * The style of the driver named {@code driverName} (as in {@code ConnectionFactoryMetadata.getName()}).
	 *
	 * @throws IllegalArgumentException for a driver Tether does not know, naming it and the way out
	 */
	public static BindMarkerStyle forDriver(String driverName) {
		String name = driverName.toLowerCase(Locale.ROOT);
		if (name.contains("postgres") || name.equals("h2") || name.contains("cockroach") || name.contains("yugabyte")) {
			return DOLLAR_NUMBERED;
		}
		if (name.contains("mariadb") || name.contains("mysql")) {
			return QUESTION_MARK;
		}
		if (name.contains("sql server") || name.contains("sqlserver") || name.contains("mssql")) {
			return AT_NAMED;
		}
		throw new IllegalArgumentException("Unknown bind-marker syntax for driver '" + driverName
				+ "'; set it with Database.builder(factory).bindMarkers(BindMarkerStyle...)");
	}
}
