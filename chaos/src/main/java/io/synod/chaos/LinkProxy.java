package io.synod.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting TCP proxy for one directed peer link (member A's connections to member B's
 * peer port). Every member reaches every other member only through such a proxy, so the harness
 * can cut, slow down or break each direction separately without root or kernel support. Bytes of
 * one connection are always delivered in order, as TCP would; faults act on whole connections:
 *
 * <ul>
 *   <li>{@link Mode#BLACKHOLE}: like an iptables DROP rule. Nothing is forwarded (existing and new
 *       connections stall, reads stop once a bounded buffer fills so TCP flow control pushes back);
 *       after healing, the held bytes flow on, as TCP retransmission would deliver them.
 *   <li>{@link Mode#REFUSE}: like an iptables REJECT rule: open connections are reset, new ones closed at once.
 *   <li>latency and jitter: each chunk is delivered no earlier than {@code delay + U(0, jitter)} after it
 *       was read, and never before the chunk read before it (reordering inside a TCP stream is impossible;
 *       across connections it happens naturally).
 *   <li>loss: with probability {@code resetProbability} per chunk the connection is reset, which is what
 *       sustained packet loss looks like to an application on top of TCP.
 * </ul>
 *
 * <p>Platform threads, four per connection: peer connections are few and long-lived, and blocking
 * monitors in virtual threads would pin carriers on a JDK 21 runtime.
 */
public final class LinkProxy implements AutoCloseable {
    /** How much one direction of one connection buffers before it stops reading (so a stall pushes back). */
    static final int BUFFER_BYTES_MAX = 4 << 20;

    /** What the link does with traffic right now. */
    public enum Mode { PASS, BLACKHOLE, REFUSE }

    private final String name;
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Conn> conns = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();
    private final SplittableRandom random;
    private volatile Mode mode = Mode.PASS;
    private volatile long delayMillis, jitterMillis;
    private volatile double resetProbability;
    private volatile boolean closed;
    private final AtomicLong bytesForwarded = new AtomicLong(), connectionsReset = new AtomicLong();

    public LinkProxy(String name, int listenPort, InetSocketAddress target, long seed) throws IOException {
        this.name = name;
        this.target = target;
        this.random = new SplittableRandom(seed);
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort), 64);
        Thread.ofPlatform().daemon().name("proxy-" + name + "-accept").start(this::acceptLoop);
    }

    public String name() {
        return name;
    }

    public int port() {
        return server.getLocalPort();
    }

    public Mode mode() {
        return mode;
    }

    public long bytesForwarded() {
        return bytesForwarded.get();
    }

    public long connectionsReset() {
        return connectionsReset.get();
    }

    public int openConnections() {
        return conns.size();
    }

    /** Changes the mode; REFUSE resets every open connection at once. */
    public void setMode(Mode m) {
        synchronized (lock) {
            mode = m;
            lock.notifyAll();
        }
        if (m == Mode.REFUSE) for (Conn c : conns) c.close();
    }

    public void setLatency(long delayMillis, long jitterMillis) {
        this.delayMillis = delayMillis;
        this.jitterMillis = jitterMillis;
    }

    public void setResetProbability(double p) {
        this.resetProbability = p;
    }

    /** Back to a perfect link: PASS, no latency, no loss. Held bytes flow on. */
    public void heal() {
        setLatency(0, 0);
        setResetProbability(0);
        setMode(Mode.PASS);
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) return;
                continue;
            }
            if (mode == Mode.REFUSE) {
                closeQuietly(client);
                continue;
            }
            Thread.ofPlatform().daemon().name("proxy-" + name + "-connect").start(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        Socket upstream = new Socket();
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            upstream.connect(target, 2000);
        } catch (IOException e) {
            // The target is down (killed member): the client sees its connection close, as with a dead host.
            closeQuietly(client);
            closeQuietly(upstream);
            return;
        }
        Conn c = new Conn(client, upstream);
        conns.add(c);
        // A REFUSE that came while this connection was being set up must not miss it.
        if (closed || mode == Mode.REFUSE) {
            c.close();
            return;
        }
        c.start();
    }

    private long chunkDelayMillis() {
        long d = delayMillis, j = jitterMillis;
        if (d == 0 && j == 0) return 0;
        synchronized (random) {
            return d + (j > 0 ? random.nextLong(j + 1) : 0);
        }
    }

    private boolean drawReset() {
        double p = resetProbability;
        if (p <= 0) return false;
        synchronized (random) {
            return random.nextDouble() < p;
        }
    }

    /** One proxied connection: two directions, each a reader and a writer sharing a bounded queue. */
    private final class Conn {
        final Socket a, b;
        volatile boolean done;

        Conn(Socket a, Socket b) {
            this.a = a;
            this.b = b;
        }

        void start() {
            pipe(a, b, "up");
            pipe(b, a, "down");
        }

        void pipe(Socket from, Socket to, String dir) {
            var queue = new ArrayDeque<Chunk>();
            long[] queued = {0};
            Thread.ofPlatform().daemon().name("proxy-" + name + "-" + dir + "-read").start(() -> {
                byte[] buf = new byte[16 * 1024];
                try (InputStream in = from.getInputStream()) {
                    while (!done) {
                        int n = in.read(buf);
                        if (n < 0) break;
                        if (drawReset()) {
                            connectionsReset.incrementAndGet();
                            break;
                        }
                        var chunk = new Chunk(java.util.Arrays.copyOf(buf, n), System.nanoTime() + chunkDelayMillis() * 1_000_000L);
                        synchronized (queue) {
                            while (queued[0] > BUFFER_BYTES_MAX && !done) queue.wait(100);
                            queue.addLast(chunk);
                            queued[0] += n;
                            queue.notifyAll();
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    // connection gone
                }
                close();
            });
            Thread.ofPlatform().daemon().name("proxy-" + name + "-" + dir + "-write").start(() -> {
                long lastDue = 0;
                try (OutputStream out = to.getOutputStream()) {
                    while (!done) {
                        Chunk c;
                        synchronized (queue) {
                            while (queue.isEmpty() && !done) queue.wait(100);
                            if (done) break;
                            c = queue.peekFirst();
                        }
                        long due = Math.max(c.dueNanos, lastDue);
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
                            continue;
                        }
                        synchronized (lock) {
                            while (mode == Mode.BLACKHOLE && !done) lock.wait(100);
                        }
                        if (done) break;
                        out.write(c.bytes);
                        out.flush();
                        bytesForwarded.addAndGet(c.bytes.length);
                        lastDue = due;
                        synchronized (queue) {
                            queue.pollFirst();
                            queued[0] -= c.bytes.length;
                            queue.notifyAll();
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    // connection gone
                }
                close();
            });
        }

        void close() {
            if (done) return;
            done = true;
            conns.remove(this);
            // SO_LINGER 0 sends a reset, so the member notices a broken link at once.
            try {
                a.setSoLinger(true, 0);
            } catch (IOException ignored) {
                // already closed
            }
            closeQuietly(a);
            closeQuietly(b);
        }
    }

    private record Chunk(byte[] bytes, long dueNanos) {}

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // nothing to do
        }
        for (Conn c : conns) c.close();
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    @Override
    public String toString() {
        return name + "(" + mode + (delayMillis > 0 || jitterMillis > 0 ? ", " + delayMillis + "+" + jitterMillis + "ms" : "")
                + (resetProbability > 0 ? ", reset p=" + resetProbability : "") + ")";
    }
}
