package io.synod.sim;

import java.util.List;

/**
 * The outcome of one seeded run: the violations found (empty on success) and what the run did,
 * so a soak can report coverage (how many crashes, elections, operations...).
 */
public record SimResult(
        SimOptions options,
        List<String> violations,
        String linearizability,
        long events,
        long simMillis,
        long committedIndex,
        int operationsOk,
        int operationsUnknown,
        int crashes,
        int leaderChanges,
        int confChanges,
        int snapshotsSent,
        long checkMillis) {

    public boolean ok() {
        return violations.isEmpty();
    }

    public String summary() {
        return String.format("seed=%d nodes=%d events=%d sim_ms=%d committed=%d ops_ok=%d ops_unknown=%d crashes=%d leaders=%d conf_changes=%d snapshots=%d lin=%s check_ms=%d",
                options.seed(), options.resolvedNodes(), events, simMillis, committedIndex, operationsOk, operationsUnknown, crashes,
                leaderChanges, confChanges, snapshotsSent, linearizability.length() > 40 ? linearizability.substring(0, 40) : linearizability, checkMillis);
    }
}
