package io.tether.pool.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy on its own, against an in-test echo server: forwarding, cutting, refusing, closing. */
class TcpProxyTest {

	private static final int READ_TIMEOUT_MS = 10_000;

	private ServerSocket echo;
	private TcpProxy proxy;

	@BeforeEach
	void startEchoServerAndProxy() throws IOException {
		echo = new ServerSocket();
		echo.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
		Thread acceptor = new Thread(() -> {
			while (!echo.isClosed()) {
				try {
					Socket s = echo.accept();
					Thread t = new Thread(() -> echoUntilClosed(s), "echo-conn");
					t.setDaemon(true);
					t.start();
				}
				catch (IOException e) {
					return;
				}
			}
		}, "echo-accept");
		acceptor.setDaemon(true);
		acceptor.start();
		proxy = TcpProxy.start("127.0.0.1", echo.getLocalPort());
	}

	@AfterEach
	void stop() throws IOException {
		proxy.close();
		echo.close();
	}

	@Test
	void forwardsBothWaysOnAnEphemeralLoopbackPort() throws IOException {
		assertThat(proxy.port()).isPositive().isNotEqualTo(echo.getLocalPort());
		try (Socket s = connect()) {
			assertThat(roundTrip(s, "hello")).isEqualTo("hello");
			assertThat(roundTrip(s, "again")).isEqualTo("again");
			assertThat(proxy.liveConnections()).isEqualTo(1);
			assertThat(proxy.acceptedConnections()).isEqualTo(1);
		}
		await(() -> proxy.liveConnections() == 0, "a client that closes is forgotten");
	}

	@Test
	void forwardsSeveralClientsIndependently() throws IOException {
		try (Socket a = connect(); Socket b = connect()) {
			assertThat(roundTrip(a, "from-a")).isEqualTo("from-a");
			assertThat(roundTrip(b, "from-b")).isEqualTo("from-b");
			assertThat(proxy.liveConnections()).isEqualTo(2);
		}
	}

	@Test
	void cutAllClosesEveryLiveConnection() throws IOException {
		try (Socket a = connect(); Socket b = connect()) {
			assertThat(roundTrip(a, "x")).isEqualTo("x");
			assertThat(roundTrip(b, "y")).isEqualTo("y");

			assertThat(proxy.cutAll()).isEqualTo(2);

			assertClosedByPeer(a);
			assertClosedByPeer(b);
			assertThat(proxy.liveConnections()).isZero();
		}
		try (Socket c = connect()) {
			assertThat(roundTrip(c, "after the cut")).as("new clients still get through").isEqualTo("after the cut");
		}
	}

	@Test
	void refuseClosesNewClientsButKeepsLiveOnes() throws IOException {
		try (Socket live = connect()) {
			assertThat(roundTrip(live, "before")).isEqualTo("before");
			proxy.refuse(true);
			try (Socket rejected = connect()) {
				assertClosedByPeer(rejected);
			}
			assertThat(proxy.refusedConnections()).isEqualTo(1);
			assertThat(roundTrip(live, "still here")).isEqualTo("still here");

			proxy.refuse(false);
			try (Socket back = connect()) {
				assertThat(roundTrip(back, "back")).isEqualTo("back");
			}
		}
	}

	@Test
	void closeStopsListeningAndCutsEverything() throws IOException {
		Socket s = connect();
		assertThat(roundTrip(s, "x")).isEqualTo("x");
		int accepted = proxy.acceptedConnections();
		proxy.close();
		assertClosedByPeer(s);
		s.close();
		// The freed ephemeral port may already belong to another process on a busy machine, so "connection
		// refused" cannot be asserted; what must hold is that this proxy accepts nothing more.
		try (Socket late = connect()) {
			late.getOutputStream().write('x');
		}
		catch (IOException refused) {
			// the usual case: nobody listens on the port any more
		}
		assertThat(proxy.acceptedConnections()).isEqualTo(accepted);
		assertThat(proxy.liveConnections()).isZero();
	}

	private Socket connect() throws IOException {
		Socket s = new Socket();
		s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port()), READ_TIMEOUT_MS);
		s.setSoTimeout(READ_TIMEOUT_MS);
		return s;
	}

	private static String roundTrip(Socket s, String text) throws IOException {
		byte[] sent = text.getBytes(StandardCharsets.UTF_8);
		s.getOutputStream().write(sent);
		s.getOutputStream().flush();
		byte[] received = s.getInputStream().readNBytes(sent.length);
		return new String(received, StandardCharsets.UTF_8);
	}

	/** EOF or a reset: either way the peer is gone. A read timeout (still open) fails the test. */
	private static void assertClosedByPeer(Socket s) throws IOException {
		try {
			assertThat(s.getInputStream().read()).as("end of stream").isEqualTo(-1);
		}
		catch (SocketException reset) {
			assertThat(reset.getMessage()).containsIgnoringCase("reset");
		}
	}

	private static void echoUntilClosed(Socket s) {
		try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
			byte[] buffer = new byte[1024];
			int n;
			while ((n = in.read(buffer)) >= 0) {
				out.write(buffer, 0, n);
				out.flush();
			}
		}
		catch (IOException e) {
			// the proxy cut us: done
		}
	}

	private static void await(BooleanSupplier condition, String what) {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
			try {
				Thread.sleep(5);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new AssertionError(e);
			}
		}
		assertThat(condition.getAsBoolean()).as(what).isTrue();
	}
}
