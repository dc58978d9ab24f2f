package io.tether.pool;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Wraps a real factory; each connection can be told to fail: validation returning false or never
 * answering, statements failing with a given error, rollback failing. Counts opens and physical closes.
 */
final class FaultyConnectionFactory implements ConnectionFactory {

	private final ConnectionFactory delegate;
	final List<FaultyConnection> connections = new CopyOnWriteArrayList<>();
	final AtomicInteger opened = new AtomicInteger();
	final AtomicInteger closed = new AtomicInteger();

	FaultyConnectionFactory(ConnectionFactory delegate) {
		this.delegate = delegate;
	}

	@Override
	public Publisher<? extends Connection> create() {
		return Mono.from(delegate.create()).map(c -> {
			FaultyConnection f = new FaultyConnection(c, opened.incrementAndGet());
			connections.add(f);
			return f;
		});
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return delegate.getMetadata();
	}

	FaultyConnection connection(int id) {
		return connections.get(id - 1);
	}

	int open() {
		return opened.get() - closed.get();
	}

	final class FaultyConnection implements Connection {

		final Connection delegate;
		final int id;
		final AtomicInteger validations = new AtomicInteger();
		final List<String> sql = new CopyOnWriteArrayList<>();
		volatile Boolean validateAnswer;
		volatile boolean validateNever;
		volatile RuntimeException statementError;
		volatile RuntimeException rollbackError;
		volatile Mono<Void> beforeRollback = Mono.empty();
		volatile boolean isClosed;

		FaultyConnection(Connection delegate, int id) {
			this.delegate = delegate;
			this.id = id;
		}

		@Override
		public Publisher<Void> close() {
			return Mono.from(delegate.close()).doOnTerminate(() -> {
				isClosed = true;
				closed.incrementAndGet();
			});
		}

		@Override
		public Statement createStatement(String s) {
			sql.add(s);
			Statement st = delegate.createStatement(s);
			RuntimeException error = statementError;
			if (error == null) {
				return st;
			}
			return new Statement() {
				@Override
				public Statement add() {
					return this;
				}

				@Override
				public Statement bind(int index, Object value) {
					return this;
				}

				@Override
				public Statement bind(String name, Object value) {
					return this;
				}

				@Override
				public Statement bindNull(int index, Class<?> type) {
					return this;
				}

				@Override
				public Statement bindNull(String name, Class<?> type) {
					return this;
				}

				@Override
				public Publisher<? extends Result> execute() {
					return Flux.error(error);
				}
			};
		}

		@Override
		public Publisher<Boolean> validate(ValidationDepth depth) {
			return Mono.defer(() -> {
				validations.incrementAndGet();
				sql.add("VALIDATE " + depth);
				if (validateNever) {
					return Mono.never();
				}
				Boolean answer = validateAnswer;
				return answer != null ? Mono.just(answer) : Mono.from(delegate.validate(depth));
			});
		}

		@Override
		public Publisher<Void> rollbackTransaction() {
			RuntimeException error = rollbackError;
			return error != null ? Mono.error(error) : beforeRollback.then(Mono.from(delegate.rollbackTransaction()));
		}

		@Override
		public Publisher<Void> beginTransaction() {
			return delegate.beginTransaction();
		}

		@Override
		public Publisher<Void> beginTransaction(TransactionDefinition definition) {
			return delegate.beginTransaction(definition);
		}

		@Override
		public Publisher<Void> commitTransaction() {
			return delegate.commitTransaction();
		}

		@Override
		public Batch createBatch() {
			return delegate.createBatch();
		}

		@Override
		public Publisher<Void> createSavepoint(String name) {
			return delegate.createSavepoint(name);
		}

		@Override
		public boolean isAutoCommit() {
			return delegate.isAutoCommit();
		}

		@Override
		public ConnectionMetadata getMetadata() {
			return delegate.getMetadata();
		}

		@Override
		public IsolationLevel getTransactionIsolationLevel() {
			return delegate.getTransactionIsolationLevel();
		}

		@Override
		public Publisher<Void> releaseSavepoint(String name) {
			return delegate.releaseSavepoint(name);
		}

		@Override
		public Publisher<Void> rollbackTransactionToSavepoint(String name) {
			return delegate.rollbackTransactionToSavepoint(name);
		}

		@Override
		public Publisher<Void> setAutoCommit(boolean autoCommit) {
			return delegate.setAutoCommit(autoCommit);
		}

		@Override
		public Publisher<Void> setLockWaitTimeout(Duration timeout) {
			return delegate.setLockWaitTimeout(timeout);
		}

		@Override
		public Publisher<Void> setStatementTimeout(Duration timeout) {
			return delegate.setStatementTimeout(timeout);
		}

		@Override
		public Publisher<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
			return delegate.setTransactionIsolationLevel(isolationLevel);
		}

		@Override
		public String toString() {
			return "FaultyConnection#" + id;
		}
	}
}
