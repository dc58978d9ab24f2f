package io.tether.core.internal;

import io.tether.core.MappingException;
import io.tether.core.RowMapper;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.BaseStream;
import org.jspecify.annotations.Nullable;

/**
 * Row mappers derived from a class, created once per class and shared (they are thread-safe).
 *
 * <ul>
 *   <li><b>Records</b> are built through the canonical constructor. Each component takes the column whose
 *       label matches its name case-insensitively, or failing that ignoring underscores as well: component
 *       {@code userId} takes column {@code userId}, {@code USERID}, {@code user_id} or {@code USER_ID}. Every
 *       component needs a column; extra columns are ignored.</li>
 *   <li><b>JavaBeans</b> (a public no-argument constructor and at least one public setter) get one setter
 *       call per matching column; other columns are ignored, but at least one must match.</li>
 *   <li><b>Everything else</b> is read as the single value of a one-column row: {@code String}, primitives
 *       and their wrappers, {@code BigDecimal}, {@code BigInteger}, {@code java.time} types, {@code UUID},
 *       {@code byte[]}, {@code ByteBuffer}, enums, arrays, and driver types such as r2dbc-postgresql's
 *       {@code Json}. A row with another number of columns is an error.</li>
 * </ul>
 * How values are converted is described on {@link MappingSlot}. A SQL {@code NULL} becomes {@code null},
 * except into a primitive, where it is an error; in particular a simple-type mapper returns {@code null} for
 * a {@code NULL} column, which the caller has to handle (Reactor does not carry {@code null}).
 *
 * <p>The reflective plan (canonical constructor or setters, as method handles) is built once per class, and
 * which column feeds which component once per column layout ({@link MappingColumns}): for each further row
 * of a result the labels are only compared with the cached layout's, then values are read by index. Nested
 * records, collections, maps and {@link Optional}s are not mapped.
 */
public final class RowMappers {

	private static final ClassValue<RowMapper<?>> MAPPERS = new ClassValue<>() {
		@Override
		protected RowMapper<?> computeValue(Class<?> type) {
			return create(type);
		}
	};

	private RowMappers() {
	}

	/**
	 * The mapper for {@code type}, created on first use and cached.
	 *
	 * @throws MappingException if {@code type} can never be mapped (a collection, a record with a nested record
	 *     or collection component, an inaccessible constructor); checked here rather than on the first row so
	 *     that the mistake shows where the type is named
	 */
	@SuppressWarnings("unchecked") // MAPPERS holds a RowMapper<T> for each Class<T>
	public static <T> RowMapper<T> forClass(Class<T> type) {
		Objects.requireNonNull(type, "type must not be null");
		return (RowMapper<T>) MAPPERS.get(type);
	}

	private static <T> RowMapper<T> create(Class<T> type) {
		if (type.isRecord()) {
			return MappingRecordMapper.of(type);
		}
		String unsupported = unsupported(type);
		if (unsupported == null) {
			unsupported = notATarget(type);
		}
		if (unsupported != null) {
			throw new MappingException("Cannot map rows to " + type.getName() + ": " + unsupported);
		}
		if (isValueType(type)) {
			return new MappingSimpleMapper<>(type, false);
		}
		MappingBeanMapper<T> bean = MappingBeanMapper.tryCreate(type);
		return bean != null ? bean : new MappingSimpleMapper<>(type, true);
	}

	/** Why {@code type} cannot be the type of a mapped record component or bean property, or null. */
	static @Nullable String unsupported(Class<?> type) {
		if (type.isRecord()) {
			return "nested records are not mapped; select the columns into a flat record or map the row with a"
					+ " RowMapper function";
		}
		if (Iterable.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type)
				|| BaseStream.class.isAssignableFrom(type)) {
			return "collections are not mapped; use an array type (String[], Integer[]) for a SQL array, collect the"
					+ " rows with Flux.collectList(), or map the row with a RowMapper function";
		}
		if (type == Optional.class) {
			return "Optional is not mapped; use a nullable type";
		}
		return null;
	}

	/**
	 * Why {@code type} cannot be the target of {@code mapTo} although it could be a component's type, or null:
	 * {@code void}, and interfaces and abstract classes of the application, which nothing could instantiate
	 * (the driver knows no such type either; JDK and R2DBC interfaces such as {@code CharSequence} or
	 * {@code io.r2dbc.spi.Clob} stay readable as single values).
	 */
	private static @Nullable String notATarget(Class<?> type) {
		if (type == void.class || type == Void.class) {
			return "a statement's rows cannot be mapped to Void; use then() or rowsUpdated() for a statement run for its"
					+ " effect";
		}
		boolean jdkOrDriver = isJdkOrDriverType(type);
		if (!jdkOrDriver && (type.isInterface() || (Modifier.isAbstract(type.getModifiers()) && !type.isArray()
				&& !type.isPrimitive()))) {
			return "it is " + (type.isInterface() ? "an interface" : "an abstract class") + ", which cannot be"
					+ " instantiated; map to a record (components named like the columns), a JavaBean (a public no-argument"
					+ " constructor and setters) or a simple type, or map the row yourself with map(row -> ...)";
		}
		return null;
	}

	private static boolean isJdkOrDriverType(Class<?> type) {
		String name = type.getName();
		return name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("io.r2dbc.");
	}

	/** Types read as one value without looking for a bean: JDK and driver types. */
	private static boolean isValueType(Class<?> type) {
		if (type.isPrimitive() || type.isArray() || type.isEnum() || type.isInterface()
				|| Modifier.isAbstract(type.getModifiers())) {
			return true;
		}
		String name = type.getName();
		return name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("io.r2dbc.");
	}
}
