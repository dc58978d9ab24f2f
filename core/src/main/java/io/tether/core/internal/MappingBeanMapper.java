package io.tether.core.internal;

import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.tether.core.MappingException;
import io.tether.core.RowMapper;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Maps a row to a JavaBean: public no-argument constructor, then one public setter call per column that
 * matches a property. Properties without a column keep their initial value; columns without a property are
 * ignored; a row where no column matches any property is an error (almost certainly the wrong class).
 */
final class MappingBeanMapper<T> implements RowMapper<T> {

	private static final MethodType SETTER = MethodType.methodType(void.class, Object.class, Object.class);

	private final Class<T> type;
	private final MethodHandle constructor;
	private final MappingSlot[] slots;
	private final MethodHandle[] setters;
	private final MappingColumns columns;

	private MappingBeanMapper(Class<T> type, MethodHandle constructor, MappingSlot[] slots, MethodHandle[] setters) {
		this.type = type;
		this.constructor = constructor;
		this.slots = slots;
		this.setters = setters;
		this.columns = new MappingColumns("bean " + type.getName(), slots, false);
	}

	/** A mapper if {@code type} is a JavaBean (public no-arg constructor and at least one setter), else null. */
	static <T> @Nullable MappingBeanMapper<T> tryCreate(Class<T> type) {
		if (type.isInterface() || type.isArray() || type.isEnum() || type.isPrimitive()
				|| Modifier.isAbstract(type.getModifiers())) {
			return null;
		}
		Constructor<T> noArgs;
		try {
			noArgs = type.getConstructor();
		}
		catch (NoSuchMethodException e) {
			return null;
		}
		// Sorted: getMethods() has no defined order, and messages list the properties.
		Map<String, List<Method>> byProperty = new TreeMap<>();
		for (Method m : type.getMethods()) {
			if (isSetter(m)) {
				byProperty.computeIfAbsent(MappingColumns.loose(m.getName().substring(3)), k -> new ArrayList<>()).add(m);
			}
		}
		if (byProperty.isEmpty()) {
			return null;
		}
		MethodHandles.Lookup lookup = MethodHandles.lookup();
		List<MappingSlot> slots = new ArrayList<>();
		List<MethodHandle> setters = new ArrayList<>();
		MethodHandle constructor;
		try {
			noArgs.setAccessible(true);
			constructor = lookup.unreflectConstructor(noArgs).asType(MethodType.methodType(Object.class));
			for (List<Method> candidates : byProperty.values()) {
				Method setter = choose(type, candidates);
				String property = decapitalize(candidates.get(0).getName().substring(3));
				String where = "property '" + property + "' of bean " + type.getName();
				if (setter == null) {
					slots.add(new MappingSlot(property, candidates.get(0).getParameterTypes()[0], where,
							"it has " + candidates.size() + " setters and no getter that picks one"));
					setters.add(MethodHandles.empty(SETTER));
					continue;
				}
				Class<?> propertyType = setter.getParameterTypes()[0];
				slots.add(new MappingSlot(property, propertyType, where, RowMappers.unsupported(propertyType)));
				setter.setAccessible(true);
				setters.add(lookup.unreflect(setter).asType(SETTER));
			}
		}
		catch (ReflectiveOperationException | RuntimeException e) {
			throw new MappingException("Cannot map rows to bean " + type.getName()
					+ ": its constructor or setters are not accessible (" + e + "); if it is in a named module, open"
					+ " its package to Tether", e);
		}
		return new MappingBeanMapper<>(type, constructor, slots.toArray(new MappingSlot[0]),
				setters.toArray(new MethodHandle[0]));
	}

	private static boolean isSetter(Method m) {
		return !Modifier.isStatic(m.getModifiers()) && !m.isBridge() && !m.isSynthetic() && m.getParameterCount() == 1
				&& m.getName().length() > 3 && m.getName().startsWith("set");
	}

	/** The single setter, or among overloads the one taking what the getter returns; null if that is unclear. */
	private static @Nullable Method choose(Class<?> type, List<Method> candidates) {
		if (candidates.size() == 1) {
			return candidates.get(0);
		}
		String suffix = candidates.get(0).getName().substring(3);
		for (String getter : new String[] {"get" + suffix, "is" + suffix}) {
			try {
				Class<?> returned = type.getMethod(getter).getReturnType();
				for (Method m : candidates) {
					if (m.getParameterTypes()[0] == returned) {
						return m;
					}
				}
			}
			catch (NoSuchMethodException e) {
				// try the next getter form
			}
		}
		return null;
	}

	/** The JavaBeans rule: {@code Name} to {@code name}, but {@code URL} stays {@code URL}. */
	private static String decapitalize(String s) {
		if (s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isUpperCase(s.charAt(1))) {
			return s;
		}
		return s.substring(0, 1).toLowerCase(Locale.ROOT) + s.substring(1);
	}

	@Override
	public T map(Row row, RowMetadata metadata) {
		MappingColumns.Layout layout = columns.layout(metadata);
		Object bean;
		try {
			bean = (Object) constructor.invokeExact();
		}
		catch (Error e) {
			throw e;
		}
		catch (Throwable e) {
			throw new MappingException("The constructor of bean " + type.getName() + " threw " + e.getClass().getName()
					+ " (see the cause)", e);
		}
		for (int i = 0; i < slots.length; i++) {
			if (layout.columns[i] < 0) {
				continue;
			}
			Object value = slots[i].read(row, layout.columns[i], layout.label(i), layout.learned, i);
			try {
				setters[i].invokeExact(bean, value);
			}
			catch (Error e) {
				throw e;
			}
			catch (Throwable e) {
				// The exception's message is left out: a validating setter may quote the value it rejected.
				throw new MappingException("The setter of " + slots[i].where() + " threw " + e.getClass().getName()
						+ " for column '" + layout.label(i) + "' (see the cause)", e);
			}
		}
		return type.cast(bean);
	}

	@Override
	public String toString() {
		return "RowMapper[bean " + type.getName() + "]";
	}
}
