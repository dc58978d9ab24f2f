package io.tether.core.internal;

import io.r2dbc.spi.ColumnMetadata;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.tether.core.MappingException;
import io.tether.core.RowMapper;
import java.util.List;

/** Maps a one-column row to a single value. */
final class MappingSimpleMapper<T> implements RowMapper<T> {

	private final Class<T> type;
	private final MappingSlot slot;
	private final String hint;
	/**
	 * See {@link MappingSlot#read}; shared by every result this mapper sees, which is safe because a learned
	 * flag only changes the order in which the driver and the conversions are tried.
	 */
	private final boolean[] learned = new boolean[1];

	/** @param opaque whether {@code type} is an application class that is neither a record nor a JavaBean */
	MappingSimpleMapper(Class<T> type, boolean opaque) {
		this.type = type;
		this.slot = new MappingSlot("value", type, "result type " + type.getName(), null);
		this.hint = opaque ? " (" + type.getName() + " is neither a record nor a JavaBean with a public no-argument"
				+ " constructor and setters, so it is read as a single value)" : "";
	}

	/** Returns {@code null} for a SQL NULL unless the type is primitive. */
	@Override
	@SuppressWarnings("unchecked") // the slot returns an instance of the boxed type, which T is for a primitive
	public T map(Row row, RowMetadata metadata) {
		List<? extends ColumnMetadata> columns = metadata.getColumnMetadatas();
		if (columns.size() != 1) {
			String[] labels = new String[columns.size()];
			for (int i = 0; i < labels.length; i++) {
				labels[i] = columns.get(i).getName();
			}
			throw new MappingException("Expected 1 column for " + type.getName() + ", got " + labels.length + ": "
					+ MappingColumns.list(labels) + hint);
		}
		return (T) slot.read(row, 0, columns.get(0).getName(), learned, 0);
	}

	@Override
	public String toString() {
		return "RowMapper[" + type.getName() + "]";
	}
}
