package io.synod.server;

import io.synod.consensus.SoftState;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.RangeRequest;
import io.synod.replica.ReplicaDriver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * The checks behind the operations endpoint's probes, named as etcd names them so that probes
 * written for etcd read the same. Each check answers with an optional failure reason:
 * <ul>
 *   <li>{@code raft_loop}: the Raft loop thread runs and has not failed (a disk error stops it);
 *   <li>{@code leader}: this member knows a leader;
 *   <li>{@code serializable_read}: the local store answers a read;
 *   <li>{@code linearizable_read}: a ReadIndex read completes through the leader within the health
 *       timeout, which proves a quorum is reachable and this member has applied up to the
 *       cluster's commit point (it fails when quorum is lost, even while a stale leader is known);
 *   <li>{@code data_corruption} / alarms: no alarm is raised;
 *   <li>{@code non_learner}: this member votes.
 * </ul>
 * {@code /health} is etcd's JSON probe (alarms, then leader, then a linearizable read, or a
 * serializable one when asked); {@code /livez} only asks whether the process should be restarted
 * (Raft loop alive, local reads work); {@code /readyz} asks whether it should get traffic.
 */
final class MemberHealth {
    /** A check's verdict: empty is healthy, else why not. */
    interface Check {
        Optional<String> run();
    }

    private static final RangeRequest PROBE = RangeRequest.single(Bytes.utf8("health"));

    private final ServerConfig config;
    private final ReplicaDriver driver;
    private final StoreHolder store;
    private final Alarms alarms;
    private final BooleanSupplier loopRunning;

    MemberHealth(ServerConfig config, ReplicaDriver driver, StoreHolder store, Alarms alarms, BooleanSupplier loopRunning) {
        this.config = config;
        this.driver = driver;
        this.store = store;
        this.alarms = alarms;
        this.loopRunning = loopRunning;
    }

    /** etcd's {@code /health}: empty if healthy, else the reason ({@code RAFT NO LEADER}, {@code ALARM NOSPACE}, ...). */
    Optional<String> health(boolean serializable) {
        Optional<String> loop = raftLoop();
        if (loop.isPresent()) return loop;
        for (Alarms.AlarmMember a : alarms.list()) return Optional.of("ALARM " + a.alarm());
        if (!serializable && driver.leader() == SoftState.NO_LEADER) return Optional.of("RAFT NO LEADER");
        Optional<String> read = serializable ? serializableRead() : linearizableRead();
        return read.map(r -> "RANGE ERROR:" + r);
    }

    /** The checks of {@code /livez}, in order. */
    Map<String, Check> livenessChecks() {
        var checks = new LinkedHashMap<String, Check>();
        checks.put("raft_loop", this::raftLoop);
        checks.put("serializable_read", this::serializableRead);
        return checks;
    }

    /** The checks of {@code /readyz}, in order. */
    Map<String, Check> readinessChecks() {
        var checks = new LinkedHashMap<String, Check>();
        checks.put("data_corruption", () -> alarm(Alarms.Alarm.CORRUPT));
        checks.put("raft_loop", this::raftLoop);
        checks.put("leader", () -> driver.leader() == SoftState.NO_LEADER ? Optional.of("no leader") : Optional.empty());
        checks.put("serializable_read", this::serializableRead);
        checks.put("linearizable_read", this::linearizableRead);
        checks.put("non_learner", () -> driver.status().confState().learners().contains(config.memberId())
                ? Optional.of("this member is a learner") : Optional.empty());
        return checks;
    }

    /** Runs checks in order; returns the failures by name (empty: all passed) and fills {@code report} with a line per check. */
    static Map<String, String> run(Map<String, Check> checks, List<String> report) {
        var failed = new LinkedHashMap<String, String>();
        for (var c : checks.entrySet()) {
            Optional<String> f;
            try {
                f = c.getValue().run();
            } catch (RuntimeException e) {
                f = Optional.of(e.toString());
            }
            if (f.isPresent()) {
                failed.put(c.getKey(), f.get());
                report.add("[-]" + c.getKey() + " failed: " + f.get());
            } else {
                report.add("[+]" + c.getKey() + " ok");
            }
        }
        return failed;
    }

    private Optional<String> alarm(Alarms.Alarm type) {
        for (Alarms.AlarmMember a : alarms.list()) {
            if (a.alarm() == type) return Optional.of("alarm " + type + " raised by member " + Long.toHexString(a.memberId()));
        }
        return Optional.empty();
    }

    private Optional<String> raftLoop() {
        Throwable failure = driver.failure();
        if (failure != null) return Optional.of("RAFT LOOP FAILED: " + failure);
        if (!loopRunning.getAsBoolean()) return Optional.of("RAFT LOOP STOPPED");
        return Optional.empty();
    }

    private Optional<String> serializableRead() {
        try {
            store.read(s -> s.range(PROBE));
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    private Optional<String> linearizableRead() {
        var f = driver.readIndex();
        try {
            f.get(config.ops().healthTimeoutMillis(), TimeUnit.MILLISECONDS);
            store.read(s -> s.range(PROBE));
            return Optional.empty();
        } catch (TimeoutException e) {
            f.cancel(false);
            return Optional.of("etcdserver: request timed out");
        } catch (ExecutionException e) {
            return Optional.of(String.valueOf(e.getCause().getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted");
        } catch (RuntimeException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    /** Human-readable list of failures for logs. */
    static String describe(Map<String, String> failed) {
        var parts = new ArrayList<String>();
        failed.forEach((k, v) -> parts.add(k + ": " + v));
        return String.join("; ", parts);
    }
}
