package io.tether.core.internal;

import io.r2dbc.spi.Row;
import io.tether.core.MappingException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * One place a column value goes: a record component, a bean property, or the single value of a simple-type
 * result. Reads the value from a row and converts it to the slot's type.
 *
 * <p>Reading asks the driver for the target type ({@code row.get(i, type)}), because drivers know their own
 * types best (a {@code jsonb} as {@code String}, a {@code timestamptz} as {@code Instant}). Numbers and enums
 * are the exception: they are read as the driver's natural value and converted here, because drivers narrow
 * numbers silently (r2dbc-postgresql returns {@code Number.intValue()} of an {@code int8}) and cannot know an
 * application's enum. When the driver rejects a type, the natural value is converted with the few conversions
 * below, and the layout remembers to skip the driver for that column next time:
 * <ul>
 *   <li>between number types when the value fits exactly ({@code Long 3 -> int}; {@code 2^40 -> int},
 *       {@code 1.5 -> long} fail); floating point to {@code float}/{@code double} may round;</li>
 *   <li>{@code String} to an enum by constant name (exact, else case-insensitive); ordinals are never used,
 *       because reordering the constants would silently change meaning;</li>
 *   <li>{@code CharSequence} to {@code String}, a one-character {@code String} to {@code char},
 *       {@code String} to {@link UUID};</li>
 *   <li>{@link ByteBuffer} and {@code byte[]} to each other;</li>
 *   <li>{@link OffsetDateTime} and {@link ZonedDateTime} to {@link Instant} (lossless). Tether never turns a
 *       {@code LocalDateTime} into an instant or an offset date-time, since its zone is unknown (a driver may:
 *       r2dbc-postgresql reads a {@code timestamp} as an {@code Instant} when asked for one).</li>
 * </ul>
 * There is no conversion from numbers to {@code Boolean}, and none to {@code java.util.Date}. Error messages
 * name the column, the Java type of its value, the target type and the component or property, never the
 * value itself.
 */
final class MappingSlot {

	private static final Object NO_CONVERSION = new Object();

	private final String name;
	private final Class<?> type;
	private final Class<?> boxed;
	private final String where;
	private final @Nullable String unsupported;
	private final boolean naturalFirst;

	/**
	 * @param name the component or property name, matched against column labels
	 * @param type the Java type to produce
	 * @param where how messages name the slot, e.g. "component 'id' of record com.example.User"
	 * @param unsupported why the type cannot be mapped, or {@code null} when it can
	 */
	MappingSlot(String name, Class<?> type, String where, @Nullable String unsupported) {
		this.name = name;
		this.type = type;
		this.boxed = box(type);
		this.where = where;
		this.unsupported = unsupported;
		this.naturalFirst = boxed == Object.class || boxed.isEnum() || Number.class.isAssignableFrom(boxed);
	}

	String name() {
		return name;
	}

	Class<?> type() {
		return type;
	}

	String where() {
		return where;
	}

	@Nullable String unsupported() {
		return unsupported;
	}

	/**
	 * Reads column {@code index} (labelled {@code column}) of {@code row} as this slot's type.
	 *
	 * @param learned per-layout flags, indexed by {@code flag}: set when the driver rejected this slot's type for
	 *     this column and the natural value converted; a plain array, since a lost update only costs one more
	 *     driver attempt
	 * @return the value; {@code null} only for SQL NULL into a non-primitive type
	 */
	@Nullable Object read(Row row, int index, String column, boolean[] learned, int flag) {
		if (naturalFirst || learned[flag]) {
			Object natural = row.get(index);
			if (natural == null) {
				return nullValue(column);
			}
			Object converted = convert(natural, column);
			if (converted != NO_CONVERSION) {
				return converted;
			}
			Object fromDriver;
			try {
				fromDriver = row.get(index, boxed);
			}
			catch (RuntimeException e) {
				throw unconvertible(column, natural, e);
			}
			if (fromDriver == null || !boxed.isInstance(fromDriver)) {
				throw unconvertible(column, natural, null);
			}
			return fromDriver;
		}
		Object fromDriver;
		RuntimeException rejected;
		try {
			fromDriver = row.get(index, boxed);
			if (fromDriver == null) {
				return nullValue(column);
			}
			if (boxed.isInstance(fromDriver)) {
				return fromDriver;
			}
			rejected = null;
		}
		catch (RuntimeException e) {
			rejected = e;
		}
		Object natural = row.get(index);
		if (natural == null) {
			return nullValue(column);
		}
		Object converted = convert(natural, column);
		if (converted == NO_CONVERSION) {
			throw unconvertible(column, natural, rejected);
		}
		if (rejected != null) {
			learned[flag] = true;
		}
		return converted;
	}

	private @Nullable Object nullValue(String column) {
		if (type.isPrimitive()) {
			throw new MappingException("Column '" + column + "' is NULL but " + where + " has primitive type "
					+ type.getName() + "; declare it as " + boxed.getName() + " to accept NULL");
		}
		return null;
	}

	private MappingException unconvertible(String column, Object natural, @Nullable Throwable cause) {
		return new MappingException("Cannot convert column '" + column + "' (value of type "
				+ natural.getClass().getName() + ") to " + type.getName() + " for " + where, cause);
	}

	/** The natural value converted to {@link #boxed}, or {@link #NO_CONVERSION}. */
	private Object convert(Object value, String column) {
		if (boxed.isInstance(value)) {
			return value;
		}
		if (value instanceof Number n && Number.class.isAssignableFrom(boxed)) {
			try {
				Object converted = convertNumber(n, boxed);
				if (converted != null) {
					return converted;
				}
			}
			catch (ArithmeticException | NumberFormatException e) {
				throw new MappingException("Column '" + column + "' (value of type " + value.getClass().getName()
						+ ") does not fit into " + type.getName() + " for " + where
						+ ": the value is out of range or not a whole number", e);
			}
			return NO_CONVERSION;
		}
		if (boxed.isEnum() && value instanceof String s) {
			Object constant = enumConstant(boxed, s);
			if (constant == null) {
				throw new MappingException("Column '" + column + "' (value of type java.lang.String) names no constant of enum "
						+ boxed.getName() + " for " + where);
			}
			return constant;
		}
		if (boxed == String.class && value instanceof CharSequence cs) {
			return cs.toString();
		}
		if (boxed == Character.class && value instanceof String s && s.length() == 1) {
			return s.charAt(0);
		}
		if (boxed == UUID.class && value instanceof String s) {
			try {
				return UUID.fromString(s);
			}
			catch (IllegalArgumentException e) {
				throw new MappingException("Column '" + column + "' (value of type java.lang.String) is not a UUID for "
						+ where, e);
			}
		}
		if (boxed == byte[].class && value instanceof ByteBuffer b) {
			ByteBuffer view = b.duplicate();
			byte[] bytes = new byte[view.remaining()];
			view.get(bytes);
			return bytes;
		}
		if (boxed == ByteBuffer.class && value instanceof byte[] bytes) {
			return ByteBuffer.wrap(bytes);
		}
		if (boxed == Instant.class && value instanceof OffsetDateTime t) {
			return t.toInstant();
		}
		if (boxed == Instant.class && value instanceof ZonedDateTime t) {
			return t.toInstant();
		}
		return NO_CONVERSION;
	}

	/** Exact conversion between number types; {@code null} for an unknown target. */
	static @Nullable Object convertNumber(Number n, Class<?> target) {
		if (target == Long.class) {
			return toLongExact(n);
		}
		if (target == Integer.class) {
			return Math.toIntExact(toLongExact(n));
		}
		if (target == Short.class) {
			long l = toLongExact(n);
			if (l != (short) l) {
				throw new ArithmeticException("short overflow");
			}
			return (short) l;
		}
		if (target == Byte.class) {
			long l = toLongExact(n);
			if (l != (byte) l) {
				throw new ArithmeticException("byte overflow");
			}
			return (byte) l;
		}
		if (target == BigInteger.class) {
			if (isIntegral(n)) {
				return BigInteger.valueOf(n.longValue());
			}
			return toBigDecimal(n).toBigIntegerExact();
		}
		if (target == BigDecimal.class) {
			return toBigDecimal(n);
		}
		if (target == Double.class) {
			if (isIntegral(n) || n instanceof BigInteger) {
				double d = n.doubleValue();
				if (new BigDecimal(d).compareTo(toBigDecimal(n)) != 0) {
					throw new ArithmeticException("not exactly representable as double");
				}
				return d;
			}
			double d = n.doubleValue();
			if (Double.isInfinite(d)) {
				throw new ArithmeticException("double overflow");
			}
			return d;
		}
		if (target == Float.class) {
			if (isIntegral(n) || n instanceof BigInteger) {
				float f = n.floatValue();
				if (new BigDecimal(f).compareTo(toBigDecimal(n)) != 0) {
					throw new ArithmeticException("not exactly representable as float");
				}
				return f;
			}
			float f = n.floatValue();
			if (Float.isInfinite(f) && !Double.isInfinite(n.doubleValue())) {
				throw new ArithmeticException("float overflow");
			}
			return f;
		}
		return null;
	}

	private static boolean isIntegral(Number n) {
		return n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte;
	}

	private static long toLongExact(Number n) {
		if (isIntegral(n)) {
			return n.longValue();
		}
		return toBigDecimal(n).longValueExact();
	}

	private static BigDecimal toBigDecimal(Number n) {
		if (n instanceof BigDecimal bd) {
			return bd;
		}
		if (n instanceof BigInteger bi) {
			return new BigDecimal(bi);
		}
		if (isIntegral(n)) {
			return BigDecimal.valueOf(n.longValue());
		}
		if (n instanceof Double || n instanceof Float) {
			double d = n.doubleValue();
			if (Double.isNaN(d) || Double.isInfinite(d)) {
				throw new ArithmeticException("not a finite number");
			}
			// The shortest decimal that reads back as the same value: 0.1f becomes 0.1, not 0.100000001490116...
			return n instanceof Float ? new BigDecimal(n.toString()) : BigDecimal.valueOf(d);
		}
		return new BigDecimal(n.toString());
	}

	private static @Nullable Object enumConstant(Class<?> enumType, String name) {
		Object[] constants = enumType.getEnumConstants();
		Object match = null;
		for (Object c : constants) {
			String constantName = ((Enum<?>) c).name();
			if (constantName.equals(name)) {
				return c;
			}
			if (constantName.toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
				if (match != null) {
					return null;
				}
				match = c;
			}
		}
		return match;
	}

	static Class<?> box(Class<?> type) {
		if (!type.isPrimitive()) {
			return type;
		}
		if (type == int.class) {
			return Integer.class;
		}
		if (type == long.class) {
			return Long.class;
		}
		if (type == boolean.class) {
			return Boolean.class;
		}
		if (type == double.class) {
			return Double.class;
		}
		if (type == float.class) {
			return Float.class;
		}
		if (type == short.class) {
			return Short.class;
		}
		if (type == byte.class) {
			return Byte.class;
		}
		if (type == char.class) {
			return Character.class;
		}
		return Void.class;
	}
}
