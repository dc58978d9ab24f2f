package io.tether.core.internal;

import io.r2dbc.spi.ColumnMetadata;
import io.r2dbc.spi.RowMetadata;
import io.tether.core.MappingException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Matches the slots of a record or bean to the columns of a row by label, and caches the match per column
 * layout, so that the rows of a result are not matched one by one.
 *
 * <p>A slot named {@code userId} takes the first column whose label equals {@code userId} ignoring case (so
 * {@code USERID}, {@code userid}); failing that, the first column whose label equals it ignoring case and
 * underscores ({@code user_id}, {@code USER_ID}). Columns that match no slot are ignored.
 *
 * <p>Layouts are keyed by the labels in order. The last one is checked first, by comparing labels in place
 * (drivers hand out the same label strings for every row, so this is a few reference comparisons); others
 * are kept in a small map that is cleared when it grows past {@value #MAX_LAYOUTS} entries (many different
 * column layouts for one class means ad-hoc queries, for which matching again is cheap enough).
 */
final class MappingColumns {

	static final int MAX_LAYOUTS = 64;

	/** The columns of one row layout: for each slot the index of its column, or -1. */
	static final class Layout {

		final String[] labels;
		final int[] columns;
		/** See {@link MappingSlot#read}. */
		final boolean[] learned;

		Layout(String[] labels, int[] columns) {
			this.labels = labels;
			this.columns = columns;
			this.learned = new boolean[columns.length];
		}

		boolean matches(List<? extends ColumnMetadata> metadata) {
			if (metadata.size() != labels.length) {
				return false;
			}
			for (int i = 0; i < labels.length; i++) {
				if (!labels[i].equals(metadata.get(i).getName())) {
					return false;
				}
			}
			return true;
		}

		String label(int slot) {
			return labels[columns[slot]];
		}
	}

	private final String owner;
	private final MappingSlot[] slots;
	private final boolean allRequired;
	private final String[] exactKeys;
	private final String[] looseKeys;
	private final ConcurrentHashMap<List<String>, Layout> layouts = new ConcurrentHashMap<>();
	private volatile @Nullable Layout last;

	/**
	 * @param owner names the mapped type in messages, e.g. "record com.example.User"
	 * @param allRequired whether every slot needs a column (records) or at least one does (beans)
	 */
	MappingColumns(String owner, MappingSlot[] slots, boolean allRequired) {
		this.owner = owner;
		this.slots = slots;
		this.allRequired = allRequired;
		this.exactKeys = new String[slots.length];
		this.looseKeys = new String[slots.length];
		for (int i = 0; i < slots.length; i++) {
			exactKeys[i] = slots[i].name().toLowerCase(Locale.ROOT);
			looseKeys[i] = loose(slots[i].name());
		}
	}

	Layout layout(RowMetadata metadata) {
		List<? extends ColumnMetadata> columns = metadata.getColumnMetadatas();
		Layout layout = last;
		if (layout != null && layout.matches(columns)) {
			return layout;
		}
		String[] labels = new String[columns.size()];
		for (int i = 0; i < labels.length; i++) {
			labels[i] = columns.get(i).getName();
		}
		List<String> key = List.of(labels);
		layout = layouts.get(key);
		if (layout == null) {
			layout = match(labels);
			if (layouts.size() >= MAX_LAYOUTS) {
				layouts.clear();
			}
			layouts.put(key, layout);
		}
		last = layout;
		return layout;
	}

	private Layout match(String[] labels) {
		String[] exact = new String[labels.length];
		String[] loose = new String[labels.length];
		for (int i = 0; i < labels.length; i++) {
			exact[i] = labels[i].toLowerCase(Locale.ROOT);
			loose[i] = loose(labels[i]);
		}
		int[] columns = new int[slots.length];
		List<MappingSlot> missing = new ArrayList<>();
		boolean any = false;
		for (int s = 0; s < slots.length; s++) {
			int column = indexOf(exact, exactKeys[s]);
			if (column < 0) {
				column = indexOf(loose, looseKeys[s]);
			}
			columns[s] = column;
			if (column < 0) {
				missing.add(slots[s]);
				continue;
			}
			any = true;
			String unsupported = slots[s].unsupported();
			if (unsupported != null) {
				throw new MappingException("Column '" + labels[column] + "' matches " + slots[s].where() + " of type "
						+ slots[s].type().getName() + ", which cannot be mapped: " + unsupported);
			}
		}
		if (allRequired && !missing.isEmpty()) {
			StringBuilder m = new StringBuilder("Cannot map the row to ").append(owner).append(": no column for ")
					.append(missing.size() == 1 ? "component " : "components ");
			for (int i = 0; i < missing.size(); i++) {
				String name = missing.get(i).name();
				String snake = snake(name);
				m.append(i == 0 ? "" : ", ").append('\'').append(name).append("' (expected label ").append(name);
				if (!snake.equals(name)) {
					m.append(" or ").append(snake);
				}
				m.append(')');
			}
			m.append(", matched case-insensitively; the row has columns: ").append(list(labels));
			throw new MappingException(m.toString());
		}
		if (!allRequired && !any) {
			List<String> names = new ArrayList<>();
			for (MappingSlot slot : slots) {
				names.add(slot.name());
			}
			throw new MappingException("Cannot map the row to " + owner + ": no column matches any of its properties "
					+ names + " (labels are matched case-insensitively, user_id to userId); the row has columns: "
					+ list(labels));
		}
		return new Layout(labels, columns);
	}

	private static int indexOf(String[] keys, String key) {
		for (int i = 0; i < keys.length; i++) {
			if (keys[i].equals(key)) {
				return i;
			}
		}
		return -1;
	}

	/** Lower case without underscores: {@code USER_ID}, {@code user_id} and {@code userId} all give {@code userid}. */
	static String loose(String name) {
		StringBuilder b = new StringBuilder(name.length());
		for (int i = 0; i < name.length(); i++) {
			char c = name.charAt(i);
			if (c != '_') {
				b.append(c);
			}
		}
		return b.toString().toLowerCase(Locale.ROOT);
	}

	/** {@code userId} to {@code user_id}, for messages. */
	static String snake(String name) {
		StringBuilder b = new StringBuilder(name.length() + 4);
		for (int i = 0; i < name.length(); i++) {
			char c = name.charAt(i);
			if (Character.isUpperCase(c) && i > 0 && Character.isLowerCase(name.charAt(i - 1))) {
				b.append('_');
			}
			b.append(Character.toLowerCase(c));
		}
		return b.toString();
	}

	static String list(String[] labels) {
		return labels.length == 0 ? "(none)" : String.join(", ", Arrays.asList(labels));
	}
}
