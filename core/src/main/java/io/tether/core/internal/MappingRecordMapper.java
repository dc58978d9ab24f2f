package io.tether.core.internal;

import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.tether.core.MappingException;
import io.tether.core.RowMapper;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;

/** Maps a row to a record through its canonical constructor; every component needs a column. */
final class MappingRecordMapper<T> implements RowMapper<T> {

	private final Class<T> type;
	private final MappingSlot[] slots;
	private final MappingColumns columns;
	/** {@code (Object[]) -> Object}: the canonical constructor with its arguments spread from an array. */
	private final MethodHandle constructor;

	private MappingRecordMapper(Class<T> type, MappingSlot[] slots, MethodHandle constructor) {
		this.type = type;
		this.slots = slots;
		this.constructor = constructor;
		this.columns = new MappingColumns("record " + type.getName(), slots, true);
	}

	static <T> MappingRecordMapper<T> of(Class<T> type) {
		RecordComponent[] components = type.getRecordComponents();
		Class<?>[] parameterTypes = new Class<?>[components.length];
		MappingSlot[] slots = new MappingSlot[components.length];
		for (int i = 0; i < components.length; i++) {
			RecordComponent c = components[i];
			parameterTypes[i] = c.getType();
			String where = "component '" + c.getName() + "' of record " + type.getName();
			String unsupported = RowMappers.unsupported(c.getType());
			if (unsupported != null) {
				throw new MappingException("Cannot map rows to record " + type.getName() + ": " + where + " has type "
						+ c.getType().getName() + ", which cannot be mapped: " + unsupported);
			}
			slots[i] = new MappingSlot(c.getName(), c.getType(), where, null);
		}
		MethodHandle handle;
		try {
			Constructor<T> canonical = type.getDeclaredConstructor(parameterTypes);
			canonical.setAccessible(true);
			handle = MethodHandles.lookup().unreflectConstructor(canonical)
					.asSpreader(Object[].class, components.length)
					.asType(MethodType.methodType(Object.class, Object[].class));
		}
		catch (ReflectiveOperationException | RuntimeException e) {
			throw new MappingException("Cannot map rows to record " + type.getName()
					+ ": its canonical constructor is not accessible (" + e + "); if it is in a named module, open its"
					+ " package to Tether", e);
		}
		return new MappingRecordMapper<>(type, slots, handle);
	}

	@Override
	public T map(Row row, RowMetadata metadata) {
		MappingColumns.Layout layout = columns.layout(metadata);
		Object[] args = new Object[slots.length];
		for (int i = 0; i < slots.length; i++) {
			args[i] = slots[i].read(row, layout.columns[i], layout.label(i), layout.learned, i);
		}
		Object record;
		try {
			record = (Object) constructor.invokeExact(args);
		}
		catch (Error e) {
			throw e;
		}
		catch (Throwable e) {
			// The exception's message is left out: a validating constructor may quote the values it rejected.
			throw new MappingException("The canonical constructor of record " + type.getName() + " threw "
					+ e.getClass().getName() + " for the row with columns " + MappingColumns.list(layout.labels)
					+ " (see the cause)", e);
		}
		return type.cast(record);
	}

	@Override
	public String toString() {
		return "RowMapper[record " + type.getName() + "]";
	}
}
