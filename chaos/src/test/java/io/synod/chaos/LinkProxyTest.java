package io.synod.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The proxy forwards in order, holds bytes while blackholed and delivers them after healing, and resets on REFUSE. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LinkProxyTest {
    ServerSocket echo;
    LinkProxy proxy;

    @BeforeEach
    void start() throws IOException {
        echo = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
                    Thread.ofPlatform().daemon().start(() -> {
                        try (s) {
                            s.getInputStream().transferTo(s.getOutputStream());
                        } catch (IOException ignored) {
                            // peer gone
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        proxy = new LinkProxy("test", 0, new InetSocketAddress(InetAddress.getLoopbackAddress(), echo.getLocalPort()), 1);
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        echo.close();
    }

    Socket connect() throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), proxy.port());
    }

    static String read(InputStream in, int n) throws IOException {
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    @Test
    void forwardsInOrderWithLatency() throws IOException {
        proxy.setLatency(5, 20);
        try (Socket s = connect()) {
            var sb = new StringBuilder();
            for (int i = 0; i < 50; i++) sb.append((char) ('a' + i % 26));
            for (char c : sb.toString().toCharArray()) s.getOutputStream().write(c);
            assertThat(read(s.getInputStream(), 50)).isEqualTo(sb.toString());
        }
    }

    @Test
    void blackholeHoldsBytesUntilHealed() throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write("one".getBytes(StandardCharsets.UTF_8));
            assertThat(read(s.getInputStream(), 3)).isEqualTo("one");
            proxy.setMode(LinkProxy.Mode.BLACKHOLE);
            s.getOutputStream().write("two".getBytes(StandardCharsets.UTF_8));
            s.setSoTimeout(300);
            assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
            proxy.heal();
            s.setSoTimeout(0);
            assertThat(read(s.getInputStream(), 3)).isEqualTo("two");
        }
    }

    @Test
    void refuseResetsOpenConnectionsAndClosesNewOnes() throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write('x');
            assertThat(read(s.getInputStream(), 1)).isEqualTo("x");
            proxy.setMode(LinkProxy.Mode.REFUSE);
            assertThat(endOfStreamOrReset(s)).isTrue();
        }
        try (Socket s = connect()) {
            assertThat(endOfStreamOrReset(s)).isTrue();
        }
    }

    static boolean endOfStreamOrReset(Socket s) {
        try {
            return s.getInputStream().read() < 0;
        } catch (IOException reset) {
            return true;
        }
    }
}
