package io.synod.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Namespace mode: every member runs in its own Linux network namespace with its own address
 * ({@code 10.77.X.(i+1)}) on a veth pair attached to a bridge in the harness's namespace (which
 * holds {@code 10.77.X.254}, so the harness's clients reach every member). All members see the
 * same {@code --initial-cluster}, as in production. Faults are iptables rules inside the receiving
 * member's namespace: blocking link {@code from → to} drops (DROP) or resets (REJECT with a TCP
 * reset) the packets {@code from} sends to {@code to}'s peer port, which stalls exactly the
 * connections {@code from} opened to {@code to}; loss drops a random share of peer-port packets
 * ({@code -m statistic}), so TCP retransmits. Latency is not available (this kernel has no
 * {@code tc netem}); the proxy mode covers it.
 *
 * <p>Everything created is named with a per-instance tag and removed by {@link #close} (called
 * from the cluster's close and its shutdown hook), also when setup fails halfway.
 */
public final class NetnsNetwork implements Network {
    private final int size, clientPort, peerPort, socketPort;
    private final String tag, bridge, subnet;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> veths = new ArrayList<>();
    private boolean bridgeCreated;

    /** Why namespace mode cannot run here, or empty if it can (root, ip, iptables, and a probe namespace works). */
    public static Optional<String> unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) return Optional.of("not running as root");
        for (String tool : List.of("ip", "iptables")) {
            if (which(tool).isEmpty()) return Optional.of(tool + " not found (apt-get install -y iproute2 iptables)");
        }
        String probe = "synod-chaos-probe-" + ProcessHandle.current().pid();
        try {
            run("ip", "netns", "add", probe);
            try {
                run("ip", "netns", "exec", probe, "iptables", "-S");
            } finally {
                run("ip", "netns", "del", probe);
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("network namespaces or iptables do not work here: " + e.getMessage());
        }
    }

    static Optional<Path> which(String tool) {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    public NetnsNetwork(int size, int basePort) throws IOException {
        this.size = size;
        this.clientPort = basePort;
        this.peerPort = basePort + 1;
        this.socketPort = basePort + 2; // members send Raft frames on socket links: partitions must cut those too
        long pid = ProcessHandle.current().pid();
        this.tag = Long.toString(pid % 100_000) + Long.toString(System.nanoTime() % 10);
        this.bridge = "syc" + tag + "b";
        this.subnet = "10.77." + freeSubnetOctet((int) (pid % 250)) + ".";
        try {
            run("ip", "link", "add", bridge, "type", "bridge");
            bridgeCreated = true;
            run("ip", "addr", "add", subnet + "254/24", "dev", bridge);
            run("ip", "link", "set", bridge, "up");
            for (int i = 0; i < size; i++) {
                String ns = namespace(i), host = "syc" + tag + "v" + i, peer = "syc" + tag + "p" + i;
                run("ip", "netns", "add", ns);
                namespaces.add(ns);
                run("ip", "link", "add", host, "type", "veth", "peer", "name", peer);
                veths.add(host);
                run("ip", "link", "set", peer, "netns", ns);
                run("ip", "link", "set", host, "master", bridge);
                run("ip", "link", "set", host, "up");
                inNs(i, "ip", "addr", "add", address(i) + "/24", "dev", peer);
                inNs(i, "ip", "link", "set", peer, "up");
                inNs(i, "ip", "link", "set", "lo", "up");
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The first third octet from {@code start} whose 10.77.x.0/24 no route of this host uses yet. */
    private static int freeSubnetOctet(int start) throws IOException {
        String routes = run("ip", "route");
        for (int k = 0; k < 250; k++) {
            int x = (start + k) % 250 + 1;
            if (!routes.contains("10.77." + x + ".")) return x;
        }
        throw new IOException("no free 10.77.x.0/24 subnet");
    }

    String namespace(int i) {
        return "synod-chaos-" + tag + "-" + LocalCluster.name(i);
    }

    String address(int i) {
        return subnet + (i + 1);
    }

    @Override
    public String mode() {
        return "netns";
    }

    @Override
    public String clientHost(int i) {
        return address(i);
    }

    @Override
    public int clientPort(int i) {
        return clientPort;
    }

    @Override
    public List<String> listenFlags(int i) {
        return List.of("--listen-client-urls", "http://" + address(i) + ":" + clientPort, "--listen-peer-urls", peerUrl(i, i),
                "--synod-peer-socket-port", Integer.toString(socketPort));
    }

    @Override
    public String peerUrl(int viewer, int member) {
        return "http://" + address(member) + ":" + peerPort;
    }

    @Override
    public boolean supportsMembership() {
        return true;
    }

    @Override
    public List<String> launchPrefix(int i) {
        return List.of(which("ip").map(Path::toString).orElse("ip"), "netns", "exec", namespace(i));
    }

    /** Member slots this network has (namespaces, addresses), members or not. */
    public int slots() {
        return size;
    }

    @Override
    public void block(int from, int to, boolean refuse) throws IOException {
        var rule = new ArrayList<>(List.of("iptables", "-A", "INPUT", "-p", "tcp", "-s", address(from), "-m", "multiport", "--dports",
                peerPorts(), "-j"));
        if (refuse) rule.addAll(List.of("REJECT", "--reject-with", "tcp-reset"));
        else rule.add("DROP");
        inNs(to, rule.toArray(String[]::new));
    }

    /** The ports members talk to each other on: the peer URL's and the socket links'. */
    private String peerPorts() {
        return peerPort + "," + socketPort;
    }

    @Override
    public boolean supportsLatency() {
        return false;
    }

    @Override
    public void latency(long delayMillis, long jitterMillis) {
        // No tc netem in this kernel: nothing to do in this mode (the nemesis notes it as skipped).
    }

    @Override
    public String loss(double severity) throws IOException {
        double p = 0.02 + severity * 0.2;
        String prob = String.format(java.util.Locale.ROOT, "%.4f", p);
        for (int i = 0; i < size; i++) {
            for (String port : List.of("--dports", "--sports")) {
                inNs(i, "iptables", "-A", "INPUT", "-p", "tcp", "-m", "multiport", port, peerPorts(), "-m", "statistic", "--mode", "random",
                        "--probability", prob, "-j", "DROP");
            }
        }
        return "iptables drops " + prob + " of peer packets on every member";
    }

    @Override
    public void heal() throws IOException {
        for (int i = 0; i < namespaces.size(); i++) inNs(i, "iptables", "-F", "INPUT");
    }

    private void inNs(int i, String... cmd) throws IOException {
        var full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(i)));
        full.addAll(List.of(cmd));
        run(full.toArray(String[]::new));
    }

    static String run(String... cmd) throws IOException {
        var command = new ArrayList<>(List.of(cmd));
        which(command.get(0)).ifPresent(p -> command.set(0, p.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", cmd) + " interrupted");
        }
        return out;
    }

    /** Deletes the namespaces, veths and bridge this instance created (members must be dead already). */
    @Override
    public synchronized void close() {
        for (String ns : namespaces) {
            try {
                run("ip", "netns", "del", ns);
            } catch (IOException ignored) {
                // already gone
            }
        }
        namespaces.clear();
        for (String v : veths) {
            try {
                run("ip", "link", "del", v);
            } catch (IOException ignored) {
                // deleting the namespace took the pair with it
            }
        }
        veths.clear();
        if (bridgeCreated) {
            try {
                run("ip", "link", "del", bridge);
            } catch (IOException ignored) {
                // already gone
            }
            bridgeCreated = false;
        }
    }
}
