package io.tether.core.internal;

import io.tether.core.InvalidSqlException;
import io.tether.core.ParameterException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * SQL text with {@code :name} parameters, parsed once and cut into the literal segments between them, so
 * that {@link #bind} only walks precomputed pieces. Immutable and thread-safe; {@link #parse} caches
 * instances per SQL string.
 *
 * <h2>What is a parameter</h2>
 * {@code :name} with {@code name} matching {@code [A-Za-z_][A-Za-z0-9_]*} (case-sensitive), anywhere
 * except inside:
 * <ul>
 * <li>string literals {@code '...'} ({@code ''} is a quote inside); standard-conforming strings are assumed,
 * so a backslash in {@code '...'} is an ordinary character, as in PostgreSQL since 9.1 and H2;</li>
 * <li>escape strings {@code E'...'} and {@code e'...'}, where {@code \'} does not end the string (the bound
 * SQL spells it {@code ''}, which means the same, because r2dbc-postgresql 1.1 rejects {@code \'});</li>
 * <li>quoted identifiers {@code "..."} ({@code ""} is a quote inside);</li>
 * <li>dollar-quoted strings {@code $$...$$} and {@code $tag$...$tag$} (another {@code $other$} inside does not
 * end them); {@code $1} is a positional marker, not a dollar quote;</li>
 * <li>{@code --} comments, up to the next line break; {@code /* *}{@code /} comments, which nest as in
 * PostgreSQL.</li>
 * </ul>
 * Left alone: {@code ::type} casts (so {@code :id::int} is the parameter {@code id}, then a cast),
 * {@code :=}, a {@code :} not followed by a name (so {@code arr[1:2]}), and inside {@code [...]} a {@code :}
 * right after an operand, the array-slice separator: {@code arr[lo:hi]} stays as written. A {@code :} that
 * opens the brackets or follows an operator or another colon is a parameter there: {@code arr[:i]} is the
 * element at parameter {@code i}; write a slice with parameter bounds as {@code arr[:lo : :hi]} (spaces) or
 * {@code arr[(:lo):(:hi)]}. {@code \:name} is the literal text {@code :name} (the backslash is dropped).
 *
 * <h2>Binding</h2>
 * Every occurrence takes its own marker, {@code $1, $2, ...} or {@code ?}, in text order; a name used twice
 * takes its value twice. A {@link Collection} value expands to one marker per element, {@code $1, $2, $3}
 * (for {@code in (:ids)}); arrays are not expanded, they are one driver array value (for
 * {@code = any(:ids)} on PostgreSQL).
 *
 * <h2>Errors</h2>
 * {@link InvalidSqlException} from {@link #parse} for an unterminated literal or comment, or named
 * parameters mixed with {@code $n} markers; {@link ParameterException} from {@link #bind} for a name the SQL
 * lacks, a name without a value, a name bound twice, a {@code null} without a type, an empty collection or a
 * {@code null} element in a collection. Messages name the parameter and its position (offset, line and
 * column), never a bound value.
 *
 * @since 0.1
 */
public final class ParsedSql {

	private static final int CACHE_CAPACITY = 2048;

	private static final NamedSqlCache CACHE = new NamedSqlCache(CACHE_CAPACITY);

	private final String sql;
	private final List<String> parameterNames;
	private final String[] names;
	private final Map<String, Integer> indexByName;
	/** Literal text around the parameters: one more than there are occurrences. */
	private final String[] segments;
	private final int[] occurrenceName;
	private final int[] occurrenceOffset;
	private final boolean[] occurrenceInBrackets;
	/** The result of every bind when the SQL has no parameter. */
	private final @Nullable BoundSql withoutParameters;

	ParsedSql(String sql, String[] segments, String[] names, int[] occurrenceName, int[] occurrenceOffset,
			boolean[] occurrenceInBrackets) {
		this.sql = sql;
		this.segments = segments;
		this.names = names;
		this.parameterNames = List.of(names);
		this.occurrenceName = occurrenceName;
		this.occurrenceOffset = occurrenceOffset;
		this.occurrenceInBrackets = occurrenceInBrackets;
		Map<String, Integer> index = new HashMap<>();
		for (int i = 0; i < names.length; i++) {
			index.put(names[i], i);
		}
		this.indexByName = index;
		this.withoutParameters = names.length == 0 ? new BoundSql(segments[0], List.of()) : null;
	}

	/**
	 * The parsed form of {@code sql}, from a bounded cache of 2048 SQL strings (rarely
	 * used entries are evicted first; SQL longer than 64K characters is parsed every time, not kept).
	 *
	 * @throws InvalidSqlException if the SQL has an unterminated literal or comment, or mixes named
	 * parameters with {@code $n} markers
	 */
	public static ParsedSql parse(String sql) {
		Objects.requireNonNull(sql, "sql must not be null");
		return CACHE.get(sql);
	}

	/** Parses without the cache; for the cache itself and for tests. */
	static ParsedSql parseUncached(String sql) {
		return NamedSqlParser.parse(sql);
	}

	/** The SQL text as given to {@link #parse}. */
	public String sql() {
		return sql;
	}

	/** The distinct parameter names, in order of first appearance; unmodifiable. */
	public List<String> parameterNames() {
		return parameterNames;
	}

	/**
	 * Replaces every parameter occurrence by the markers of {@code markers} and lists the values in marker
	 * order. Without parameters, and with no bindings, returns the SQL text unchanged (the same string).
	 *
	 * @param bindings one binding per parameter name, in any order
	 * @param markers how the driver writes markers
	 * @throws ParameterException if a binding names no parameter of the SQL, a parameter has no binding or
	 * two, a value is {@code null} without a type, or a collection is empty or holds {@code null}
	 */
	public BoundSql bind(List<Binding> bindings, BindMarkers markers) {
		return bind(bindings, markers, BindLimit.NONE);
	}

	/**
	 * {@link #bind(List, BindMarkers)}, refusing to expand to more markers than {@code limit} allows.
	 *
	 * @throws ParameterException as {@link #bind(List, BindMarkers)}, and when the expanded statement would need
	 *     more bind values than {@code limit.max()}, naming the limit, the largest collection and the remedy
	 */
	public BoundSql bind(List<Binding> bindings, BindMarkers markers, BindLimit limit) {
		Objects.requireNonNull(bindings, "bindings must not be null");
		Objects.requireNonNull(markers, "markers must not be null");
		if (withoutParameters != null) {
			if (!bindings.isEmpty()) {
				throw unknownParameter(Objects.requireNonNull(bindings.get(0), "bindings must not contain null").name());
			}
			return withoutParameters;
		}
		Object[] values = new Object[names.length];
		for (Binding binding : bindings) {
			Objects.requireNonNull(binding, "bindings must not contain null");
			Integer index = indexByName.get(binding.name());
			if (index == null) {
				throw unknownParameter(binding.name());
			}
			int i = index;
			if (values[i] != null) {
				throw new ParameterException("Parameter '" + names[i] + "' (first at " + position(sql, firstOffset(i))
						+ ") is bound twice; expected one value per name (a name used several times in the SQL takes the same value everywhere)"
						+ inSql(sql));
			}
			values[i] = valueOf(binding, i);
		}
		int markerCount = 0;
		for (int i = 0; i < names.length; i++) {
			if (values[i] == null) {
				throw missingValue(i);
			}
		}
		for (int o = 0; o < occurrenceName.length; o++) {
			Object value = values[occurrenceName[o]];
			markerCount += value instanceof Collection<?> collection ? collection.size() : 1;
		}
		if (markerCount > limit.max()) {
			throw tooManyValues(values, markerCount, limit);
		}
		StringBuilder text = new StringBuilder(sql.length() + 4 * markerCount);
		List<Object> positional = new ArrayList<>(markerCount);
		for (int o = 0; o < occurrenceName.length; o++) {
			text.append(segments[o]);
			Object value = values[occurrenceName[o]];
			if (value instanceof Collection<?> collection) {
				int element = 0;
				for (Object item : collection) {
					if (item == null) {
						throw new ParameterException("Parameter '" + names[occurrenceName[o]] + "' at "
								+ position(sql, occurrenceOffset[o]) + " is a collection whose element " + element + " of "
								+ collection.size() + " is null; expected non-null elements (a null inside IN (...) never matches; filter it out, or add 'or col is null')"
								+ inSql(sql));
					}
					if (element > 0) {
						text.append(", ");
					}
					text.append(markers.marker(positional.size()));
					positional.add(item);
					element++;
				}
			}
			else {
				text.append(markers.marker(positional.size()));
				positional.add(value);
			}
		}
		text.append(segments[occurrenceName.length]);
		return new BoundSql(text.toString(), Collections.unmodifiableList(positional));
	}

	private Object valueOf(Binding binding, int i) {
		Object value = binding.value();
		if (value == null) {
			Class<?> type = binding.nullType();
			if (type == null) {
				throw new ParameterException("Parameter '" + names[i] + "' at " + position(sql, firstOffset(i))
						+ " is bound to null without a type; expected a type for the SQL NULL: use bindNull(\"" + names[i]
						+ "\", Type.class)" + inSql(sql));
			}
			return new NullValue(type);
		}
		if (value instanceof Collection<?> collection && collection.isEmpty()) {
			throw new ParameterException("Parameter '" + names[i] + "' is an empty collection at " + position(sql, firstOffset(i))
					+ "; expected at least one element, as 'in ()' is not valid SQL: use '= any(:" + names[i]
					+ ")' with an array on PostgreSQL, or skip or change the query when the list is empty" + inSql(sql));
		}
		return value;
	}

	private ParameterException tooManyValues(Object[] values, int markerCount, BindLimit limit) {
		int largest = -1;
		for (int i = 0; i < values.length; i++) {
			if (values[i] instanceof Collection<?> c && (largest < 0 || c.size() > ((Collection<?>) values[largest]).size())) {
				largest = i;
			}
		}
		StringBuilder m = new StringBuilder("The statement needs ").append(String.format("%,d", markerCount))
				.append(" bind values, more than ").append(limit.database()).append(" accepts in one statement (")
				.append(String.format("%,d", limit.max())).append(')');
		if (largest >= 0) {
			String name = names[largest];
			m.append(": parameter '").append(name).append("' at ").append(position(sql, firstOffset(largest)))
					.append(" is a collection of ").append(String.format("%,d", ((Collection<?>) values[largest]).size()))
					.append(" elements");
			if (!limit.remedy().isEmpty()) {
				m.append("; ").append(limit.remedy().replace(":name", ":" + name));
			}
		}
		return new ParameterException(m.append(". Nothing was sent").append(inSql(sql)).toString());
	}

	/**
	 * The parameter that bind marker {@code marker} (zero-based) of {@code bind(bindings, ...)} stands for, as
	 * "'name'" or "'name' (element 3 of 10)" for a collection; for messages about a value the driver refused.
	 */
	public String parameterAt(List<Binding> bindings, int marker) {
		Map<String, Object> byName = new HashMap<>();
		for (Binding b : bindings) {
			byName.put(b.name(), b.value());
		}
		int first = 0;
		for (int o = 0; o < occurrenceName.length; o++) {
			String name = names[occurrenceName[o]];
			int size = byName.get(name) instanceof Collection<?> c ? c.size() : 1;
			if (marker < first + size) {
				String at = " at " + position(sql, occurrenceOffset[o]);
				return byName.get(name) instanceof Collection<?> c
						? "'" + name + "'" + at + " (element " + (marker - first) + " of " + c.size() + ")"
						: "'" + name + "'" + at;
			}
			first += size;
		}
		return "#" + (marker + 1);
	}

	private ParameterException unknownParameter(String name) {
		StringBuilder message = new StringBuilder("Unknown parameter '").append(name).append("': the SQL has no :").append(name);
		if (names.length == 0) {
			message.append(" and no named parameters at all");
		}
		else {
			message.append("; expected one of ").append(parameterNames);
			for (String known : names) {
				if (known.equalsIgnoreCase(name)) {
					message.append(" (names are case-sensitive: did you mean '").append(known).append("'?)");
					break;
				}
			}
		}
		return new ParameterException(message.append(inSql(sql)).toString());
	}

	private ParameterException missingValue(int i) {
		int first = firstOccurrence(i);
		StringBuilder message = new StringBuilder("No value for parameter '").append(names[i]).append("' at ")
				.append(position(sql, occurrenceOffset[first])).append("; expected a binding: bind(\"").append(names[i])
				.append("\", value), or bindNull(\"").append(names[i]).append("\", Type.class) for NULL");
		if (occurrenceInBrackets[first]) {
			message.append(" (inside [...] a ':' after an operator is a parameter; for an array slice such as [lo:hi] put an operand before the ':', e.g. [1:")
					.append(names[i]).append("], or write \\:").append(names[i]).append(')');
		}
		return new ParameterException(message.append(inSql(sql)).toString());
	}

	private int firstOffset(int nameIndex) {
		return occurrenceOffset[firstOccurrence(nameIndex)];
	}

	private int firstOccurrence(int nameIndex) {
		for (int o = 0; o < occurrenceName.length; o++) {
			if (occurrenceName[o] == nameIndex) {
				return o;
			}
		}
		throw new IllegalStateException("no occurrence of parameter " + nameIndex);
	}

	/** "offset 37 (line 2, column 5)": zero-based offset; one-based line and column; CR, LF and CRLF end lines. */
	static String position(String sql, int offset) {
		int line = 1;
		int lineStart = 0;
		for (int i = 0; i < offset; i++) {
			char c = sql.charAt(i);
			if (c == '\n' || (c == '\r' && (i + 1 >= sql.length() || sql.charAt(i + 1) != '\n'))) {
				line++;
				lineStart = i + 1;
			}
		}
		return "offset " + offset + " (line " + line + ", column " + (offset - lineStart + 1) + ")";
	}

	static String inSql(String sql) {
		return " in SQL: " + sql;
	}

	@Override
	public String toString() {
		return "ParsedSql[parameters=" + parameterNames + ", sql=" + sql + "]";
	}
}
