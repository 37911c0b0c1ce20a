package io.synod.cli;

import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Finds which member of an etcd-compatible cluster leads, by asking each endpoint's Maintenance Status
 * (the same call {@code etcdctl endpoint status} makes), so that the side-by-side benchmark can aim its
 * clients at the same role in both systems. Without it a single client lands on member 1 whatever its
 * role, and the row measures a direct write in one run and a forwarded one in the next.
 */
final class LeaderProbe {
    /** Deadline of one Status call. */
    static final long STATUS_DEADLINE_MILLIS = 2_000;
    /** How often, and how far apart, the probe asks again while no member reports a leader. */
    static final int ATTEMPTS = 50;
    static final long RETRY_PAUSE_MILLIS = 200;

    private LeaderProbe() {}

    /** One snapshot of the cluster: each endpoint's member id (0 if it did not answer) and the leader's id (0 if none was named). */
    record Snapshot(long[] memberIds, long leaderId) {
        /** Index of the endpoint whose member leads, or -1. */
        int leaderIndex() {
            for (int i = 0; i < memberIds.length; i++) if (leaderId != 0 && memberIds[i] == leaderId) return i;
            return -1;
        }

        /** Index of the last endpoint that answered and does not lead, or -1. */
        int followerIndex() {
            for (int i = memberIds.length - 1; i >= 0; i--) if (leaderId != 0 && memberIds[i] != 0 && memberIds[i] != leaderId) return i;
            return -1;
        }
    }

    static Snapshot probe(List<String> endpoints) {
        long leader = 0;
        long[] ids = new long[endpoints.size()];
        for (int i = 0; i < ids.length; i++) {
            ManagedChannel ch = NettyChannelBuilder.forTarget(endpoints.get(i)).usePlaintext().build();
            try {
                StatusResponse s = MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(STATUS_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                        .status(StatusRequest.getDefaultInstance());
                ids[i] = s.getHeader().getMemberId();
                if (s.getLeader() != 0) leader = s.getLeader();
            } catch (RuntimeException e) {
                ids[i] = 0;
            } finally {
                ch.shutdownNow();
            }
        }
        return new Snapshot(ids, leader);
    }

    /** Index of the leading member's endpoint, asking again until one is named; throws if none is within the attempts. */
    static int leader(String system, List<String> endpoints) throws InterruptedException {
        return await(system, endpoints, true);
    }

    /** Index of an endpoint whose member does not lead (the last such), asking again until the cluster has a leader. */
    static int follower(String system, List<String> endpoints) throws InterruptedException {
        return await(system, endpoints, false);
    }

    private static int await(String system, List<String> endpoints, boolean leader) throws InterruptedException {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Snapshot s = probe(endpoints);
            int i = leader ? s.leaderIndex() : s.followerIndex();
            if (i >= 0) return i;
            Thread.sleep(RETRY_PAUSE_MILLIS);
        }
        throw new IllegalStateException(system + ": no member answered Status with " + (leader ? "itself as the leader" : "a leader other than itself")
                + " in " + ATTEMPTS + " attempts");
    }

    /** The endpoints rotated so that the leader's comes first and the others keep their order after it. */
    static List<String> leaderFirst(String system, List<String> endpoints) throws InterruptedException {
        int l = leader(system, endpoints);
        var out = new ArrayList<String>(endpoints.size());
        for (int k = 0; k < endpoints.size(); k++) out.add(endpoints.get((l + k) % endpoints.size()));
        return out;
    }
}
