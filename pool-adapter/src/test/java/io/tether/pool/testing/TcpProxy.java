package io.tether.pool.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP forwarder for tests that need "the server went away": it listens on an ephemeral port of
 * 127.0.0.1 and copies bytes both ways between each client and a fresh connection to the target.
 * {@link #cutAll()} closes every live pair at once (both sides, as a crashed server or a dropped network
 * would), {@link #refuse(boolean)} makes it accept and immediately close new clients, so that
 * reconnecting fails until the test lets the "server" come back. The real server is never touched.
 *
 * <p>Blocking sockets on daemon threads (two per live pair): test code may block, and this keeps the
 * forwarding independent of the event loops under test.
 */
public final class TcpProxy implements AutoCloseable {

	private final InetSocketAddress target;
	private final ServerSocket server;
	private final Set<Pair> live = ConcurrentHashMap.newKeySet();
	private final AtomicInteger accepted = new AtomicInteger();
	private final AtomicInteger refused = new AtomicInteger();
	private volatile boolean refusing;
	private volatile boolean closed;

	private TcpProxy(InetSocketAddress target) throws IOException {
		this.target = target;
		this.server = new ServerSocket();
		this.server.setReuseAddress(true);
		this.server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
		Thread acceptor = new Thread(this::acceptLoop, "tcp-proxy-accept-" + port());
		acceptor.setDaemon(true);
		acceptor.start();
	}

	/** Starts a proxy to {@code host:port}; it forwards until {@link #close()}. */
	public static TcpProxy start(String host, int port) {
		try {
			return new TcpProxy(new InetSocketAddress(host, port));
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	/** The local port clients connect to (on 127.0.0.1). */
	public int port() {
		return server.getLocalPort();
	}

	/** Closes every live client connection and its upstream connection; returns how many pairs it cut. */
	public int cutAll() {
		int n = 0;
		for (Pair p : live) {
			p.close();
			n++;
		}
		return n;
	}

	/** While {@code true}, new clients are accepted and closed at once, before anything is forwarded. */
	public void refuse(boolean refuse) {
		this.refusing = refuse;
	}

	/** Client connections currently forwarded. */
	public int liveConnections() {
		return live.size();
	}

	/** Clients accepted and forwarded since the start (refused ones not counted). */
	public int acceptedConnections() {
		return accepted.get();
	}

	/** Clients closed at once because the proxy was refusing. */
	public int refusedConnections() {
		return refused.get();
	}

	/** Stops listening and cuts every live connection. */
	@Override
	public void close() {
		closed = true;
		closeQuietly(server);
		cutAll();
	}

	private void acceptLoop() {
		while (!closed) {
			Socket client;
			try {
				client = server.accept();
			}
			catch (IOException e) {
				if (closed) {
					return;
				}
				continue;
			}
			if (refusing || closed) {
				refused.incrementAndGet();
				closeQuietly(client);
				continue;
			}
			Socket upstream = new Socket();
			try {
				client.setTcpNoDelay(true);
				upstream.setTcpNoDelay(true);
				upstream.connect(target, 5_000);
			}
			catch (IOException e) {
				closeQuietly(client);
				closeQuietly(upstream);
				continue;
			}
			Pair pair = new Pair(client, upstream);
			live.add(pair);
			accepted.incrementAndGet();
			pair.start();
		}
	}

	private static void closeQuietly(AutoCloseable c) {
		try {
			c.close();
		}
		catch (Exception ignored) {
			// already closed or broken: nothing left to release
		}
	}

	private final class Pair {

		private final Socket client;
		private final Socket upstream;

		Pair(Socket client, Socket upstream) {
			this.client = client;
			this.upstream = upstream;
		}

		void start() {
			pump(client, upstream, "c2s");
			pump(upstream, client, "s2c");
		}

		private void pump(Socket from, Socket to, String direction) {
			Thread t = new Thread(() -> {
				byte[] buffer = new byte[16 * 1024];
				try {
					InputStream in = from.getInputStream();
					OutputStream out = to.getOutputStream();
					int n;
					while ((n = in.read(buffer)) >= 0) {
						out.write(buffer, 0, n);
						out.flush();
					}
				}
				catch (SocketException e) {
					// cut by cutAll() or by the peer
				}
				catch (IOException e) {
					// same: the pair is going away
				}
				finally {
					close();
				}
			}, "tcp-proxy-" + direction + "-" + client.getPort());
			t.setDaemon(true);
			t.start();
		}

		void close() {
			live.remove(this);
			closeQuietly(client);
			closeQuietly(upstream);
		}
	}
}
