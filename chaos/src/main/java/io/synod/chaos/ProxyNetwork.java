package io.synod.chaos;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Loopback mode: members listen on 127.0.0.1 (client ports {@code base..}, peer ports
 * {@code base+100..}) and reach each other only through one {@link LinkProxy} per directed link
 * (ports {@code base+200+from*n+to}): member {@code i}'s {@code --initial-cluster} names, for every
 * other member {@code k}, the port of proxy {@code i→k}. Consequence worth knowing: the cluster id
 * (a hash of {@code --initial-cluster}) differs between members; nothing in the server compares it.
 */
public final class ProxyNetwork implements Network {
    private final int size, basePort;
    private final LinkProxy[][] links;

    public ProxyNetwork(int size, int basePort, long seed) throws IOException {
        this.size = size;
        this.basePort = basePort;
        this.links = new LinkProxy[size][size];
        for (int p : ports()) {
            if (!LocalCluster.portFree(p)) throw new IOException("port " + p + " is in use; pick another --base-port");
        }
        try {
            for (int i = 0; i < size; i++) {
                for (int k = 0; k < size; k++) {
                    if (i == k) continue;
                    links[i][k] = new LinkProxy(LocalCluster.name(i) + "->" + LocalCluster.name(k), linkPort(i, k),
                            new InetSocketAddress(InetAddress.getLoopbackAddress(), peerPort(k)), seed * 31 + i * size + k);
                }
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    List<Integer> ports() {
        var ports = new ArrayList<Integer>();
        for (int i = 0; i < size; i++) {
            ports.add(clientPort(i));
            ports.add(peerPort(i));
            for (int k = 0; k < size; k++) if (i != k) ports.add(linkPort(i, k));
        }
        return ports;
    }

    @Override
    public String mode() {
        return "loopback";
    }

    @Override
    public String clientHost(int i) {
        return "127.0.0.1";
    }

    @Override
    public int clientPort(int i) {
        return basePort + i;
    }

    int peerPort(int i) {
        return basePort + 100 + i;
    }

    int linkPort(int from, int to) {
        return basePort + 200 + from * size + to;
    }

    public LinkProxy link(int from, int to) {
        return links[from][to];
    }

    @Override
    public List<String> listenFlags(int i) {
        return List.of("--listen-client-urls", "http://127.0.0.1:" + clientPort(i), "--listen-peer-urls", "http://127.0.0.1:" + peerPort(i));
    }

    @Override
    public String peerUrl(int viewer, int member) {
        return "http://127.0.0.1:" + (viewer == member ? peerPort(member) : linkPort(viewer, member));
    }

    @Override
    public boolean supportsMembership() {
        return false;
    }

    @Override
    public List<String> launchPrefix(int i) {
        return List.of();
    }

    @Override
    public void block(int from, int to, boolean refuse) {
        links[from][to].setMode(refuse ? LinkProxy.Mode.REFUSE : LinkProxy.Mode.BLACKHOLE);
    }

    @Override
    public boolean supportsLatency() {
        return true;
    }

    @Override
    public void latency(long delayMillis, long jitterMillis) {
        for (LinkProxy[] row : links) for (LinkProxy l : row) if (l != null) l.setLatency(delayMillis, jitterMillis);
    }

    @Override
    public String loss(double severity) {
        double p = 0.002 + severity * 0.02;
        for (LinkProxy[] row : links) for (LinkProxy l : row) if (l != null) l.setResetProbability(p);
        return String.format("connection reset probability %.4f per chunk on every link", p);
    }

    @Override
    public void heal() {
        for (LinkProxy[] row : links) for (LinkProxy l : row) if (l != null) l.heal();
    }

    @Override
    public void close() {
        for (LinkProxy[] row : links) for (LinkProxy l : row) if (l != null) l.close();
    }
}
