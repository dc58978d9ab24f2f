package io.tether.context.internal;

import org.jspecify.annotations.Nullable;

/** What a scope puts in the Context under its factory's key: the connection and the transaction, if any. */
public final class Binding {

	private final ConnectionHolder holder;
	private final @Nullable TransactionState transaction;

	Binding(ConnectionHolder holder, @Nullable TransactionState transaction) {
		this.holder = holder;
		this.transaction = transaction;
	}

	ConnectionHolder holder() {
		return holder;
	}

	public @Nullable TransactionState transaction() {
		return transaction;
	}

	@Override
	public String toString() {
		return "Binding[" + holder + (transaction != null ? ", in transaction" : "") + "]";
	}
}
