package io.tether.context.internal;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import java.time.Duration;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * The view of a bound connection that application code gets. Every operation that talks to the server
 * goes through the connection's {@link StatementGate}, so concurrent statements of one pipeline run one
 * after another; {@link #close()} does nothing, because the scope that bound the connection releases it
 * (the analogue of DBUtils' {@code PersistentDB} with {@code closeable=False}).
 */
public final class ScopedConnection implements Connection, Wrapped<Connection> {

	private final Connection delegate;
	private final StatementGate gate;

	ScopedConnection(Connection delegate, StatementGate gate) {
		this.delegate = delegate;
		this.gate = gate;
	}

	StatementGate gate() {
		return gate;
	}

	<T> Publisher<T> gated(Publisher<T> command) {
		return GatedFlux.operation(command, gate);
	}

	/** Ignored: the scope that bound this connection releases it when the scope terminates. */
	@Override
	public Publisher<Void> close() {
		return Mono.empty();
	}

	/**
	 * A statement whose {@code execute()} waits for its turn. Once the scope has started releasing the
	 * connection, the driver is not asked: the statement takes its binds and its execution fails, through
	 * the gate, with the scope's explanation (a statement being created while a cancel releases the
	 * connection would otherwise fail inside the pool, with an error nobody can receive). While the driver
	 * creates the statement, the release waits.
	 */
	@Override
	public Statement createStatement(String sql) {
		if (!gate.enterCreation()) {
			return new GatedStatement(Refused.STATEMENT, gate);
		}
		try {
			return new GatedStatement(delegate.createStatement(sql), gate);
		}
		finally {
			gate.straggled();
		}
	}

	/** A batch whose {@code execute()} waits for its turn; after the release started, as {@link #createStatement}. */
	@Override
	public Batch createBatch() {
		if (!gate.enterCreation()) {
			return new GatedBatch(Refused.BATCH, gate);
		}
		try {
			return new GatedBatch(delegate.createBatch(), gate);
		}
		finally {
			gate.straggled();
		}
	}

	@Override
	public Publisher<Void> beginTransaction() {
		return gated(delegate.beginTransaction());
	}

	@Override
	public Publisher<Void> beginTransaction(TransactionDefinition definition) {
		return gated(delegate.beginTransaction(definition));
	}

	@Override
	public Publisher<Void> commitTransaction() {
		return gated(delegate.commitTransaction());
	}

	@Override
	public Publisher<Void> rollbackTransaction() {
		return gated(delegate.rollbackTransaction());
	}

	@Override
	public Publisher<Void> createSavepoint(String name) {
		return gated(delegate.createSavepoint(name));
	}

	@Override
	public Publisher<Void> releaseSavepoint(String name) {
		return gated(delegate.releaseSavepoint(name));
	}

	@Override
	public Publisher<Void> rollbackTransactionToSavepoint(String name) {
		return gated(delegate.rollbackTransactionToSavepoint(name));
	}

	@Override
	public boolean isAutoCommit() {
		return delegate.isAutoCommit();
	}

	@Override
	public Publisher<Void> setAutoCommit(boolean autoCommit) {
		return gated(delegate.setAutoCommit(autoCommit));
	}

	@Override
	public IsolationLevel getTransactionIsolationLevel() {
		return delegate.getTransactionIsolationLevel();
	}

	@Override
	public Publisher<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
		return gated(delegate.setTransactionIsolationLevel(isolationLevel));
	}

	@Override
	public Publisher<Void> setLockWaitTimeout(Duration timeout) {
		return gated(delegate.setLockWaitTimeout(timeout));
	}

	@Override
	public Publisher<Void> setStatementTimeout(Duration timeout) {
		return gated(delegate.setStatementTimeout(timeout));
	}

	@Override
	public Publisher<Boolean> validate(ValidationDepth depth) {
		return gated(delegate.validate(depth));
	}

	@Override
	public ConnectionMetadata getMetadata() {
		return delegate.getMetadata();
	}

	@Override
	public Connection unwrap() {
		return delegate;
	}

	@Override
	public String toString() {
		return "ScopedConnection[" + delegate + "]";
	}
}
