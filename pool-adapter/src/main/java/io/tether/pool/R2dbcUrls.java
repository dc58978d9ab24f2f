package io.tether.pool;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.ConnectionFactoryProvider;
import io.tether.pool.internal.SettingValues;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * R2DBC URLs as Tether reads them: parsing whose errors never contain a password, the driver a URL names,
 * and masking for messages and logs.
 *
 * @since 0.1
 */
public final class R2dbcUrls {

	private static final String POOL_DRIVER = "pool";

	private R2dbcUrls() {
	}

	/**
	 * The options of {@code r2dbcUrl}, as {@link ConnectionFactoryOptions#parse(CharSequence)} reads them.
	 *
	 * @throws IllegalArgumentException if the URL does not parse: the message says why and shows the URL
	 *         {@linkplain #mask masked}; unlike the SPI's own exception, neither it nor a cause contains the
	 *         password (the SPI quotes the whole URL, and {@link java.net.URISyntaxException} does too)
	 */
	public static ConnectionFactoryOptions parse(String r2dbcUrl) {
		Objects.requireNonNull(r2dbcUrl, "r2dbcUrl must not be null");
		try {
			return ConnectionFactoryOptions.parse(r2dbcUrl);
		}
		catch (IllegalArgumentException e) {
			StringBuilder reasons = new StringBuilder();
			for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
				if (t.getMessage() != null) {
					reasons.append(reasons.length() == 0 ? "" : ": ").append(mask(t.getMessage()));
				}
			}
			// The causes are left out on purpose: their messages quote the URL with its password.
			throw new IllegalArgumentException("Not a valid R2DBC URL (" + reasons + "); expected"
					+ " r2dbc:driver[:protocol]://[user[:password]@]host[:port][/database][?option=value&...]: "
					+ mask(r2dbcUrl));
		}
	}

	/**
	 * The name of the driver {@code r2dbcUrl} asks for, after checking that one of that name is on the class
	 * path; for an {@code r2dbc:pool:<driver>:} URL, the driver under the pool.
	 *
	 * @throws IllegalArgumentException if the URL does not parse (see {@link #parse}), or no R2DBC driver of
	 *         that name is on the class path (the message names it and lists the drivers found)
	 */
	public static String driver(String r2dbcUrl) {
		ConnectionFactoryOptions options = parse(r2dbcUrl);
		String driver = options.getRequiredValue(ConnectionFactoryOptions.DRIVER).toString();
		List<String> available = availableDrivers();
		if (!available.contains(driver)) {
			throw unknownDriver(driver, available, r2dbcUrl);
		}
		if (POOL_DRIVER.equals(driver) && options.hasOption(ConnectionFactoryOptions.PROTOCOL)) {
			String protocol = options.getRequiredValue(ConnectionFactoryOptions.PROTOCOL).toString();
			String inner = protocol.contains(":") ? protocol.substring(0, protocol.indexOf(':')) : protocol;
			if (!available.contains(inner)) {
				throw unknownDriver(inner, available, r2dbcUrl);
			}
			return inner;
		}
		return driver;
	}

	/**
	 * {@code text} with anything that looks like a secret replaced by {@code ***}: the password of a URL's
	 * user info, and values after {@code password}, {@code pwd}, {@code secret} or {@code token} (as in
	 * {@code ?password=...} or {@code SET password = ...}).
	 */
	public static String mask(String text) {
		return SettingValues.mask(Objects.requireNonNull(text, "text must not be null"));
	}

	/** The drivers of the R2DBC {@link ConnectionFactoryProvider}s on the class path, in the order found. */
	static List<String> availableDrivers() {
		List<String> drivers = new ArrayList<>();
		for (ConnectionFactoryProvider provider : ServiceLoader.load(ConnectionFactoryProvider.class,
				ConnectionFactories.class.getClassLoader())) {
			drivers.add(provider.getDriver());
		}
		return drivers;
	}

	private static IllegalArgumentException unknownDriver(String driver, List<String> available, String url) {
		StringBuilder m = new StringBuilder("No R2DBC driver '").append(driver).append("' on the class path");
		for (String known : available) {
			if (known.equalsIgnoreCase(driver) || SettingValues.editDistance(known.toLowerCase(Locale.ROOT),
					driver.toLowerCase(Locale.ROOT)) <= 2) {
				m.append(" (did you mean '").append(known).append("'?)");
				break;
			}
		}
		return new IllegalArgumentException(m.append("; drivers found: ")
				.append(available.isEmpty() ? "none" : String.join(", ", available))
				.append(". Add the driver's artifact (e.g. org.postgresql:r2dbc-postgresql, io.r2dbc:r2dbc-h2) or fix the"
						+ " name in the URL: ").append(mask(url)).toString());
	}
}
