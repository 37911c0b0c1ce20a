package io.synod.server;

/**
 * Limits and timings of membership management, named and validated in one place.
 *
 * @param learnersMax             learners the cluster may hold at once (etcd's default is 1); more are refused
 *                                with "etcdserver: too many learner members in cluster"
 * @param promoteMatchPercent     a learner may be promoted only once the leader knows it holds at least this
 *                                percentage of the leader's commit index (etcd: 90)
 * @param changeBackoffMillis     pause before retrying a membership change the core refused because another
 *                                one (or its automatic leave) is still being applied
 * @param publishIntervalMillis   how often a member checks its own published name and client URLs (and
 *                                retries publishing them) and whether it was removed
 * @param removedNoLeaderMillis   a member whose removal the store records stops once it has heard of no
 *                                leader for this long, even if it never saw the joint configuration left
 * @param joinTimeoutMillis       how long a joining member keeps asking the peers in {@code --initial-cluster}
 *                                for the cluster's members before giving up
 * @param removedStopDelayMillis  how long a member that saw itself removed keeps running before it stops, so the
 *                                answer to the request that removed it (often forwarded through it, when it led)
 *                                leaves before its listeners close
 */
record ClusterOptions(int learnersMax, int promoteMatchPercent, long changeBackoffMillis, long publishIntervalMillis,
        long removedNoLeaderMillis, long joinTimeoutMillis, long removedStopDelayMillis) {
    static final ClusterOptions DEFAULTS = new ClusterOptions(1, 90, 20, 500, 10_000, 30_000, 1_000);

    ClusterOptions {
        if (learnersMax < 0) throw new IllegalArgumentException("learnersMax must be >= 0, got " + learnersMax);
        if (promoteMatchPercent < 0 || promoteMatchPercent > 100) {
            throw new IllegalArgumentException("promoteMatchPercent must be in [0, 100], got " + promoteMatchPercent);
        }
        if (changeBackoffMillis < 1 || publishIntervalMillis < 1 || removedNoLeaderMillis < 1 || joinTimeoutMillis < 1
                || removedStopDelayMillis < 0) {
            throw new IllegalArgumentException("cluster timings must be >= 1 ms: " + this);
        }
    }
}
