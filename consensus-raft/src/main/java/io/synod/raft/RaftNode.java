package io.synod.raft;

import io.synod.common.Assert;
import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.ConsensusNode;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.HardState;
import io.synod.consensus.LogStorage;
import io.synod.consensus.Message;
import io.synod.consensus.ProposeResult;
import io.synod.consensus.ProposeResult.Accepted;
import io.synod.consensus.ProposeResult.Reason;
import io.synod.consensus.ProposeResult.Rejected;
import io.synod.consensus.ReadState;
import io.synod.consensus.Ready;
import io.synod.consensus.Role;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SnapshotMeta;
import io.synod.consensus.SoftState;
import io.synod.consensus.Status;
import io.synod.raft.RaftMessage.AppendRequest;
import io.synod.raft.RaftMessage.AppendResponse;
import io.synod.raft.RaftMessage.CommitNotice;
import io.synod.raft.RaftMessage.HeartbeatRequest;
import io.synod.raft.RaftMessage.HeartbeatResponse;
import io.synod.raft.RaftMessage.ReadIndexRequest;
import io.synod.raft.RaftMessage.ReadIndexResponse;
import io.synod.raft.RaftMessage.SnapshotRequest;
import io.synod.raft.RaftMessage.TimeoutNow;
import io.synod.raft.RaftMessage.VoteRequest;
import io.synod.raft.RaftMessage.VoteResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * A Raft member as a pure state machine (see {@link ConsensusNode}): leader election with
 * pre-vote and check-quorum, pipelined and batched log replication with per-follower flow
 * control, ReadIndex reads, snapshots, joint-consensus membership with learners, and leadership
 * transfer. It owns no thread, clock, file or socket; its only randomness is the injected
 * generator that draws election timeouts, so a seeded generator makes it fully deterministic.
 */
public final class RaftNode implements ConsensusNode {
    private static final long NONE = 0;
    /** Safety margin, in ticks, by which the leader's read lease is shorter than its followers' election timeout. */
    private static final int LEASE_MARGIN_TICKS = 2;

    private final RaftConfig cfg;
    private final long id;
    private final RandomGenerator random;
    private final RaftLog log;

    // Invariant: term never decreases; vote is NONE or the member we voted for in term.
    private long term;
    private long vote;
    private long lead;
    private Role role = Role.FOLLOWER;

    /** Membership as of the last applied conf change (changes take effect when applied, as in etcd). */
    private ConfState conf;
    /** Ordered map so iteration (and hence message order) is deterministic. */
    private final TreeMap<Long, Progress> progress = new TreeMap<>();
    private final TreeMap<Long, Boolean> votes = new TreeMap<>();

    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTicks;

    private long leadTransferee = NONE;
    /** Index of the latest conf change the leader appended; another may be proposed only once it is applied. */
    private long pendingConfIndex;
    private long uncommittedBytes;

    private record PendingRead(long seq, long index, byte[] context, long from) {}

    private long readSeq;
    private final ArrayDeque<PendingRead> pendingReads = new ArrayDeque<>();
    /** Reads that arrived before the leader committed an entry of its own term (its commit index may be stale). */
    private final ArrayDeque<PendingRead> readsAwaitingCommit = new ArrayDeque<>();

    private ArrayList<Message> msgs = new ArrayList<>();
    private ArrayList<Message> leaderMsgs = new ArrayList<>();
    private ArrayList<ReadState> readStates = new ArrayList<>();
    private ArrayList<byte[]> readsAborted = new ArrayList<>();
    /** Reads this member forwarded to the leader and not yet answered; aborted when that leadership ends for us. */
    private final ArrayList<byte[]> forwardedReads = new ArrayList<>();
    /** Leader only: ticks since it became leader, and for recent heartbeat rounds (by readSeq) the tick each was sent at. */
    private long leaderTicks;
    private final TreeMap<Long, Long> heartbeatSentAt = new TreeMap<>();
    /** Leader only: per voter, the send tick of the latest heartbeat round it acknowledged. */
    private final TreeMap<Long, Long> leaseAckTick = new TreeMap<>();
    /**
     * Leader only: heartbeat rounds sent at or before this tick never count toward the lease. Set when a
     * transfer ends unfinished: its TimeoutNow let the transferee bypass the followers' leases, so acks of
     * rounds sent during it prove nothing about who else may lead.
     */
    private long leaseValidAfterTick = Long.MIN_VALUE;
    private HardState prevHardState;
    private SoftState prevSoftState;
    private boolean readyOutstanding;
    /** Leader broadcasts deferred to the next Ready so that proposals and reads made in between share them. */
    private boolean appendsDue;
    private boolean heartbeatDue;
    /** Last committed index handed out in the outstanding Ready (0 if none). */
    private long applyingIndex;

    public RaftNode(RaftConfig config, LogStorage storage, RandomGenerator random) {
        this.cfg = config;
        this.id = config.id();
        this.random = random;
        this.log = new RaftLog(storage);
        HardState hs = storage.hardState();
        Assert.that(hs.commit() <= log.lastIndex(), "stored commit %d beyond stored last index %d", hs.commit(), log.lastIndex());
        this.term = hs.term();
        this.vote = hs.vote();
        this.log.commitTo(hs.commit());
        this.conf = storage.confState();
        this.prevHardState = hs;
        becomeFollower(term, NONE);
        this.prevSoftState = softState();
    }

    @Override
    public long id() {
        return id;
    }

    // ---- time -----------------------------------------------------------------------------

    @Override
    public void tick() {
        if (role == Role.LEADER) tickLeader();
        else tickElection();
    }

    private void tickElection() {
        electionElapsed++;
        if (promotable() && electionElapsed >= randomizedElectionTicks) {
            electionElapsed = 0;
            hup(false);
        }
    }

    private void tickLeader() {
        leaderTicks++;
        heartbeatElapsed++;
        electionElapsed++;
        if (electionElapsed >= cfg.electionTicks()) {
            electionElapsed = 0;
            if (cfg.checkQuorum()) {
                // Raft thesis §6.2: a leader cut off from a quorum steps down, so clients go elsewhere.
                if (!quorumActive()) {
                    becomeFollower(term, NONE);
                    return;
                }
                for (var e : progress.entrySet()) if (e.getKey() != id) e.getValue().recentActive = false;
            }
            if (leadTransferee != NONE) {
                leadTransferee = NONE; // a transfer that did not finish within an election timeout is abandoned
                leaseValidAfterTick = leaderTicks;
            }
        }
        if (heartbeatElapsed >= cfg.heartbeatTicks()) {
            heartbeatElapsed = 0;
            bcastHeartbeat();
        }
    }

    private boolean quorumActive() {
        return Quorum.voteResult(conf.voters(), conf.votersOutgoing(),
                        v -> v == id || (progress.containsKey(v) && progress.get(v).recentActive), v -> false)
                == Quorum.VoteResult.WON;
    }

    // ---- elections ------------------------------------------------------------------------

    private boolean promotable() {
        return conf.isVoter(id) && log.unstableSnapshot().isEmpty();
    }

    private void hup(boolean transfer) {
        if (role == Role.LEADER || !promotable()) return;
        // A member must not campaign with a configuration it has not finished applying.
        if (log.hasConfChangeIn(log.applied, log.committed)) return;
        if (transfer || !cfg.preVote()) campaign(false, transfer);
        else campaign(true, false);
    }

    private void campaign(boolean pre, boolean transfer) {
        long voteTerm;
        if (pre) {
            becomePreCandidate();
            voteTerm = term + 1;
        } else {
            becomeCandidate();
            voteTerm = term;
        }
        votes.put(id, true);
        if (tally() == Quorum.VoteResult.WON) {
            if (pre) campaign(false, false);
            else becomeLeader();
            return;
        }
        long lastIndex = log.lastIndex();
        long lastTerm = log.lastTerm();
        for (long voter : conf.allMembers()) {
            if (voter == id || !conf.isVoter(voter)) continue;
            send(new VoteRequest(id, voter, voteTerm, pre, lastIndex, lastTerm, transfer));
        }
    }

    private Quorum.VoteResult tally() {
        return Quorum.voteResult(conf.voters(), conf.votersOutgoing(),
                v -> Boolean.TRUE.equals(votes.get(v)), v -> Boolean.FALSE.equals(votes.get(v)));
    }

    private void becomeFollower(long newTerm, long newLead) {
        reset(newTerm);
        role = Role.FOLLOWER;
        lead = newLead;
    }

    private void becomePreCandidate() {
        Assert.that(role != Role.LEADER, "leader %d cannot become pre-candidate", id);
        abortForwardedReads(); // a pre-candidate ignores ReadIndexResponse, and the leader is gone for us
        // Pre-vote changes neither term nor vote: a member that cannot win leaves no trace.
        votes.clear();
        role = Role.PRE_CANDIDATE;
        lead = NONE;
    }

    private void becomeCandidate() {
        Assert.that(role != Role.LEADER, "leader %d cannot become candidate", id);
        reset(term + 1);
        vote = id;
        role = Role.CANDIDATE;
    }

    private void becomeLeader() {
        Assert.that(role == Role.CANDIDATE, "only a candidate becomes leader, %d is %s", id, role);
        reset(term);
        role = Role.LEADER;
        lead = id;
        Progress self = progress.get(id);
        self.match = log.stableLastIndex();
        self.becomeReplicate();
        self.recentActive = true;
        // Conservatively treat any uncommitted tail as possibly holding a conf change.
        pendingConfIndex = log.lastIndex();
        // Raft §8: a no-op of the new term lets the leader commit (and learn the commit index) at once.
        appendEntry(EntryType.NORMAL, new byte[0]);
        bcastAppend();
    }

    private void reset(long newTerm) {
        if (term != newTerm) {
            Assert.that(newTerm > term, "term going back from %d to %d", term, newTerm);
            term = newTerm;
            vote = NONE;
        }
        if (role == Role.LEADER) abortReads();
        abortForwardedReads();
        leaderTicks = 0;
        heartbeatSentAt.clear();
        leaseAckTick.clear();
        leaseValidAfterTick = Long.MIN_VALUE;
        lead = NONE;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        randomizedElectionTicks = cfg.electionTicks() + random.nextInt(cfg.electionTicks());
        leadTransferee = NONE;
        votes.clear();
        uncommittedBytes = 0;
        appendsDue = false;
        heartbeatDue = false;
        long next = log.lastIndex() + 1;
        progress.clear();
        for (long m : conf.allMembers()) progress.put(m, newProgress(m, next));
    }

    private Progress newProgress(long member, long next) {
        return new Progress(next, cfg.inflightAppendsMax(), cfg.inflightBytesMax(), !conf.isVoter(member));
    }

    // ---- messages -------------------------------------------------------------------------

    @Override
    public void step(Message message) {
        RaftMessage m = (RaftMessage) message;
        Assert.that(m.to() == id, "message for %d delivered to %d", m.to(), id);
        if (m instanceof VoteResponse r && r.commitIndex() > log.committed && log.matchTerm(r.commitIndex(), r.commitTerm())) {
            // Whether an entry is committed is a fact independent of terms: if we hold the very entry
            // another member knows to be committed, everything up to it is committed for us too.
            log.commitTo(r.commitIndex());
        }
        if (m.term() > term) {
            if (m instanceof VoteRequest v && !v.leadershipTransfer() && inLease()) {
                return; // Raft thesis §4.2.3: ignore disruptive candidates while a leader is known to be alive.
            }
            boolean preVoteTraffic = (m instanceof VoteRequest v && v.preVote()) || (m instanceof VoteResponse r && r.preVote() && r.granted());
            if (!preVoteTraffic) {
                boolean fromLeader = m instanceof AppendRequest || m instanceof HeartbeatRequest || m instanceof SnapshotRequest
                        || m instanceof CommitNotice;
                becomeFollower(m.term(), fromLeader ? m.from() : NONE);
            }
        } else if (m.term() < term) {
            if ((cfg.checkQuorum() || cfg.preVote()) && (m instanceof AppendRequest || m instanceof HeartbeatRequest || m instanceof CommitNotice)) {
                // A stale leader (e.g. back from a partition) learns our term and steps down.
                send(new AppendResponse(id, m.from(), term, true, 0, 0, 0));
            } else if (m instanceof VoteRequest v && v.preVote()) {
                send(voteResponse(m.from(), term, true, false));
            }
            return;
        }
        if (m instanceof VoteRequest v) {
            onVoteRequest(v);
            return;
        }
        switch (role) {
            case LEADER -> stepLeader(m);
            case FOLLOWER -> stepFollower(m);
            case PRE_CANDIDATE, CANDIDATE -> stepCandidate(m);
        }
    }

    private VoteResponse voteResponse(long to, long responseTerm, boolean preVote, boolean granted) {
        return new VoteResponse(id, to, responseTerm, preVote, granted, log.committed, log.term(log.committed));
    }

    private boolean inLease() {
        return cfg.checkQuorum() && lead != NONE && electionElapsed < cfg.electionTicks();
    }

    private void onVoteRequest(VoteRequest v) {
        boolean canVote = vote == v.from() || (vote == NONE && lead == NONE) || (v.preVote() && v.term() > term);
        if (canVote && log.isUpToDate(v.lastLogIndex(), v.lastLogTerm())) {
            send(voteResponse(v.from(), v.term(), v.preVote(), true));
            if (!v.preVote()) {
                electionElapsed = 0;
                vote = v.from();
            }
        } else {
            send(voteResponse(v.from(), term, v.preVote(), false));
        }
    }

    private void stepLeader(RaftMessage m) {
        switch (m) {
            case AppendResponse r -> onAppendResponse(r);
            case HeartbeatResponse h -> onHeartbeatResponse(h);
            case ReadIndexRequest q -> leaderRead(q.context(), q.from());
            case AppendRequest a -> throw Assert.unreachable("two leaders in term %d: %d and %d", term, id, a.from());
            case HeartbeatRequest h -> throw Assert.unreachable("two leaders in term %d: %d and %d", term, id, h.from());
            case CommitNotice c -> throw Assert.unreachable("two leaders in term %d: %d and %d", term, id, c.from());
            case SnapshotRequest s -> throw Assert.unreachable("two leaders in term %d: %d and %d", term, id, s.from());
            case VoteRequest v -> throw Assert.unreachable("vote requests are handled before role dispatch");
            case VoteResponse r -> { } // late vote from the election we already won
            case TimeoutNow t -> { } // we already lead
            case ReadIndexResponse r -> { } // addressed to us as a follower of an earlier leadership
        }
    }

    private void stepFollower(RaftMessage m) {
        switch (m) {
            case AppendRequest a -> {
                electionElapsed = 0;
                lead = a.from();
                handleAppend(a);
            }
            case HeartbeatRequest h -> {
                electionElapsed = 0;
                lead = h.from();
                log.commitTo(h.commit());
                send(new HeartbeatResponse(id, h.from(), term, h.readSeq()));
            }
            case CommitNotice c -> {
                electionElapsed = 0;
                lead = c.from();
                // Only as far as our log provably matches the leader's; no answer either way.
                if (c.index() >= log.committed && log.matchTerm(c.index(), c.logTerm())) log.commitTo(Math.min(c.commit(), c.index()));
            }
            case SnapshotRequest s -> {
                electionElapsed = 0;
                lead = s.from();
                handleSnapshot(s);
            }
            case TimeoutNow t -> hup(true);
            case ReadIndexResponse r -> {
                for (var it = forwardedReads.iterator(); it.hasNext(); ) {
                    if (java.util.Arrays.equals(it.next(), r.context())) {
                        it.remove();
                        readStates.add(new ReadState(r.index(), r.context()));
                        break;
                    }
                }
            }
            case ReadIndexRequest q -> { } // the sender thinks we lead; it will time out and retry
            case AppendResponse r -> { }
            case HeartbeatResponse h -> { }
            case VoteResponse r -> { }
            case VoteRequest v -> throw Assert.unreachable("vote requests are handled before role dispatch");
        }
    }

    private void stepCandidate(RaftMessage m) {
        switch (m) {
            case AppendRequest a -> {
                becomeFollower(term, a.from()); // a leader exists in our term
                handleAppend(a);
            }
            case HeartbeatRequest h -> {
                becomeFollower(term, h.from());
                stepFollower(h);
            }
            case CommitNotice c -> {
                becomeFollower(term, c.from());
                stepFollower(c);
            }
            case SnapshotRequest s -> {
                becomeFollower(term, s.from());
                handleSnapshot(s);
            }
            case VoteResponse r -> {
                if (r.preVote() != (role == Role.PRE_CANDIDATE)) return;
                votes.putIfAbsent(r.from(), r.granted());
                switch (tally()) {
                    case WON -> {
                        if (role == Role.PRE_CANDIDATE) campaign(false, false);
                        else becomeLeader();
                    }
                    case LOST -> becomeFollower(term, NONE);
                    case PENDING -> { }
                }
            }
            case TimeoutNow t -> { }
            case ReadIndexRequest q -> { }
            case ReadIndexResponse r -> { }
            case AppendResponse r -> { }
            case HeartbeatResponse h -> { }
            case VoteRequest v -> throw Assert.unreachable("vote requests are handled before role dispatch");
        }
    }

    // ---- follower side of replication -----------------------------------------------------

    private void handleAppend(AppendRequest a) {
        if (a.prevLogIndex() < log.committed) {
            send(new AppendResponse(id, a.from(), term, false, log.committed, 0, 0));
            return;
        }
        // Raft §5.3 (log matching): accept only if our log holds the leader's previous entry.
        if (log.matchTerm(a.prevLogIndex(), a.prevLogTerm())) {
            long lastNew = log.appendFromLeader(a.entries(), a.prevLogIndex());
            log.commitTo(Math.min(a.leaderCommit(), lastNew));
            send(new AppendResponse(id, a.from(), term, false, lastNew, 0, 0));
            return;
        }
        long hintIndex = log.findConflictByTerm(Math.min(a.prevLogIndex(), log.lastIndex()), a.prevLogTerm());
        send(new AppendResponse(id, a.from(), term, true, a.prevLogIndex(), hintIndex, log.term(hintIndex)));
    }

    private void handleSnapshot(SnapshotRequest s) {
        SnapshotMeta meta = s.snapshot().meta();
        if (meta.index() <= log.committed) {
            send(new AppendResponse(id, s.from(), term, false, log.committed, 0, 0));
            return;
        }
        if (applyingIndex > log.applied) {
            // Committed entries (maybe membership changes) are being applied right now; installing a
            // snapshot under them would change membership twice. Decline; the leader retries.
            send(new AppendResponse(id, s.from(), term, false, log.committed, 0, 0));
            return;
        }
        if (log.matchTerm(meta.index(), meta.term())) {
            // We already hold the snapshot's last entry; just fast-forward the commit index.
            log.commitTo(meta.index());
            send(new AppendResponse(id, s.from(), term, false, log.committed, 0, 0));
            return;
        }
        log.restore(s.snapshot());
        conf = meta.confState();
        syncProgress();
        send(new AppendResponse(id, s.from(), term, false, log.lastIndex(), 0, 0));
    }

    // ---- leader side of replication -------------------------------------------------------

    private void onAppendResponse(AppendResponse r) {
        Progress pr = progress.get(r.from());
        if (pr == null) return;
        pr.recentActive = true;
        if (r.rejected()) {
            long nextProbe = r.hintIndex();
            if (r.hintTerm() > 0) nextProbe = log.findConflictByTerm(r.hintIndex(), r.hintTerm());
            if (pr.maybeDecrTo(r.index(), nextProbe)) {
                if (pr.state == Progress.State.REPLICATE) pr.becomeProbe();
                sendAppends(r.from());
            }
            return;
        }
        if (!pr.maybeUpdate(r.index())) return;
        switch (pr.state) {
            case PROBE -> pr.becomeReplicate();
            case SNAPSHOT -> {
                if (pr.match >= pr.pendingSnapshot) {
                    pr.becomeProbe();
                    pr.becomeReplicate();
                }
            }
            case REPLICATE -> pr.inflights.freeLE(r.index());
        }
        if (maybeCommit()) bcastCommit();
        else sendAppends(r.from());
        if (r.from() == leadTransferee && pr.match == log.lastIndex()) {
            send(new TimeoutNow(id, r.from(), term));
        }
    }

    private void onHeartbeatResponse(HeartbeatResponse h) {
        Progress pr = progress.get(h.from());
        if (pr == null) return;
        pr.recentActive = true;
        pr.probeSent = false;
        // If every append filling the window was lost (e.g. the follower restarted), nothing would ever
        // free it; the follower is alive, so free one slot and let the next append find out where it is.
        if (pr.state == Progress.State.REPLICATE && pr.inflights.full()) pr.inflights.freeFirst();
        // Send even an empty append: if an append was lost or rejected out of order, its answer is what
        // moves the follower back to probing from its real match point.
        if (pr.match < log.lastIndex() && sendAppend(h.from(), true)) sendAppends(h.from());
        Long sentAt = heartbeatSentAt.get(h.readSeq());
        if (sentAt != null && sentAt > leaseAckTick.getOrDefault(h.from(), Long.MIN_VALUE)) leaseAckTick.put(h.from(), sentAt);
        if (h.readSeq() > pr.readSeqAcked) {
            pr.readSeqAcked = h.readSeq();
            releaseReads();
        }
    }

    /** Raft §5.4.2: commit by counting replicas only for an entry of the current term. */
    private boolean maybeCommit() {
        long mci = Quorum.committedIndex(conf.voters(), conf.votersOutgoing(), v -> {
            Progress p = progress.get(v);
            return p == null ? 0 : p.match;
        });
        if (mci > log.committed && log.term(mci) == term) {
            boolean firstInTerm = log.term(log.committed) != term;
            log.commitTo(mci);
            if (firstInTerm) onFirstCommitInTerm();
            return true;
        }
        return false;
    }

    /**
     * After the commit index advanced: appends to followers that lack entries (or are probed), and
     * a {@link CommitNotice} to each replicating follower that already holds the whole log, which
     * needs no answer.
     */
    private void bcastCommit() {
        for (var e : progress.entrySet()) {
            long peer = e.getKey();
            if (peer == id) continue;
            Progress pr = e.getValue();
            long index = pr.next - 1;
            long logTerm = log.term(index);
            if (pr.state == Progress.State.REPLICATE && index == log.lastIndex() && (logTerm != 0 || index == 0)) {
                send(new CommitNotice(id, peer, term, index, logTerm, log.committed));
            } else if (sendAppend(peer, true)) {
                sendAppends(peer);
            }
        }
    }

    private void bcastAppend() {
        for (long peer : progress.keySet()) {
            if (peer == id) continue;
            if (sendAppend(peer, true)) sendAppends(peer);
        }
    }

    /** Sends as many appends as the follower's flow control allows. */
    private void sendAppends(long to) {
        Progress pr = progress.get(to);
        while (sendAppend(to, false)) {
            if (pr.state != Progress.State.REPLICATE) return;
        }
    }

    private boolean sendAppend(long to, boolean sendIfEmpty) {
        Progress pr = progress.get(to);
        if (pr == null || pr.isPaused()) return false;
        long prevIndex = pr.next - 1;
        long prevTerm = log.term(prevIndex);
        if ((prevTerm == 0 && prevIndex != 0) || pr.next < log.firstIndex()) return sendSnapshot(to, pr);
        List<Entry> ents = log.slice(pr.next, log.lastIndex() + 1, cfg.appendBytesMax(), cfg.appendEntriesMax());
        if (ents.isEmpty() && !sendIfEmpty) return false;
        send(new AppendRequest(id, to, term, prevIndex, prevTerm, ents, log.committed));
        if (!ents.isEmpty()) {
            long bytes = 0;
            for (Entry e : ents) bytes += e.sizeBytes();
            pr.sentEntries(ents.get(ents.size() - 1).index(), bytes);
        } else if (pr.state == Progress.State.PROBE) {
            pr.probeSent = true;
        }
        return true;
    }

    private boolean sendSnapshot(long to, Progress pr) {
        if (!pr.recentActive) return false; // wait until the follower shows it is alive
        Snapshot snap = log.snapshotForFollower();
        Assert.that(!snap.isEmpty(), "follower %d needs index %d but no snapshot exists (first index %d)", to, pr.next, log.firstIndex());
        pr.becomeSnapshot(snap.meta().index());
        send(new SnapshotRequest(id, to, term, snap));
        return true;
    }

    private void bcastHeartbeat() {
        if (cfg.leaseBasedReads()) {
            // Each round gets its own sequence number, so an answer tells when the round was sent.
            heartbeatSentAt.put(++readSeq, leaderTicks);
            heartbeatSentAt.headMap(readSeq - 64).clear();
        }
        for (var e : progress.entrySet()) {
            long peer = e.getKey();
            if (peer == id) continue;
            send(new HeartbeatRequest(id, peer, term, Math.min(e.getValue().match, log.committed), readSeq));
        }
    }

    private void send(RaftMessage m) {
        // A leader's replication traffic promises nothing about its own disk (it counts itself toward a
        // quorum only after advance()), so it may leave before the Ready is persisted; everything else
        // (votes, acknowledgements) must wait for the disk.
        boolean early = role == Role.LEADER && (m instanceof AppendRequest || m instanceof HeartbeatRequest || m instanceof CommitNotice
                || m instanceof SnapshotRequest || m instanceof TimeoutNow || m instanceof ReadIndexResponse);
        (early ? leaderMsgs : msgs).add(m);
    }

    private long appendEntry(EntryType type, byte[] data) {
        long index = log.lastIndex() + 1;
        Entry e = new Entry(term, index, type, data);
        log.appendLocal(e);
        uncommittedBytes += e.sizeBytes();
        return index;
    }

    // ---- proposals ------------------------------------------------------------------------

    @Override
    public ProposeResult propose(byte[] data) {
        if (data.length > cfg.proposalBytesMax()) {
            return new Rejected(Reason.TOO_LARGE, lead, "proposal of " + data.length + " bytes exceeds " + cfg.proposalBytesMax());
        }
        if (role != Role.LEADER) return notLeader();
        if (leadTransferee != NONE) return new Rejected(Reason.TRANSFERRING, lead, "leadership transfer to " + leadTransferee + " in progress");
        if (uncommittedBytes > 0 && uncommittedBytes + data.length > cfg.uncommittedBytesMax()) {
            return new Rejected(Reason.OVERLOADED, lead, "uncommitted bytes " + uncommittedBytes + " at limit " + cfg.uncommittedBytesMax());
        }
        long index = appendEntry(EntryType.NORMAL, data);
        // Batching: the broadcast waits for the next Ready, so every proposal made before it travels
        // in the same append (bounded by appendEntriesMax / appendBytesMax).
        appendsDue = true;
        return new Accepted(term, index);
    }

    @Override
    public ProposeResult proposeConfChange(ConfChange change) {
        if (role != Role.LEADER) return notLeader();
        if (leadTransferee != NONE) return new Rejected(Reason.TRANSFERRING, lead, "leadership transfer to " + leadTransferee + " in progress");
        if (pendingConfIndex > log.applied) {
            return new Rejected(Reason.CONF_CHANGE_PENDING, lead, "conf change at " + pendingConfIndex + " not yet applied (applied " + log.applied + ")");
        }
        try {
            Membership.apply(conf, change);
        } catch (Membership.InvalidChange e) {
            return new Rejected(Reason.INVALID_CONF_CHANGE, lead, e.getMessage());
        }
        long index = appendEntry(EntryType.CONF_CHANGE, change.encode());
        pendingConfIndex = index;
        bcastAppend();
        return new Accepted(term, index);
    }

    private Rejected notLeader() {
        if (!conf.allMembers().isEmpty() && !conf.allMembers().contains(id)) {
            return new Rejected(Reason.REMOVED, NONE, "member " + id + " is not in the configuration " + conf.voters());
        }
        if (lead == NONE) return new Rejected(Reason.NO_LEADER, NONE, "no leader in term " + term);
        return new Rejected(Reason.NOT_LEADER, lead, "leader is " + lead);
    }

    @Override
    public ProposeResult transferLeadership(long transferee) {
        if (role != Role.LEADER) return notLeader();
        Progress pr = progress.get(transferee);
        if (pr == null || pr.learner) return new Rejected(Reason.UNKNOWN_MEMBER, id, transferee + " is not a voter");
        if (transferee == id || transferee == leadTransferee) return new Accepted(term, 0);
        leadTransferee = transferee;
        electionElapsed = 0; // the transfer must finish within one election timeout
        if (pr.match == log.lastIndex()) send(new TimeoutNow(id, transferee, term));
        else if (sendAppend(transferee, true)) sendAppends(transferee); // even empty: find out where it is now
        return new Accepted(term, 0);
    }

    // ---- reads ----------------------------------------------------------------------------

    @Override
    public ProposeResult readIndex(byte[] context) {
        if (role == Role.LEADER) return leaderRead(context, id);
        Rejected r = notLeader();
        if (r.reason() != Reason.NOT_LEADER) return r;
        if (forwardedReads.size() >= cfg.pendingReadsMax()) {
            return new Rejected(Reason.OVERLOADED, lead, "forwarded reads at limit " + cfg.pendingReadsMax());
        }
        send(new ReadIndexRequest(id, lead, term, context));
        forwardedReads.add(context);
        return new Accepted(term, 0);
    }

    private ProposeResult leaderRead(byte[] context, long from) {
        if (pendingReads.size() + readsAwaitingCommit.size() >= cfg.pendingReadsMax()) {
            return new Rejected(Reason.OVERLOADED, id, "pending reads at limit " + cfg.pendingReadsMax());
        }
        if (log.term(log.committed) != term) {
            // Until an entry of our term commits, our commit index may lag what an earlier leader committed.
            readsAwaitingCommit.add(new PendingRead(0, 0, context, from));
        } else {
            startRead(context, from);
        }
        return new Accepted(term, 0);
    }

    private void startRead(byte[] context, long from) {
        boolean soleVoter = Quorum.voteResult(conf.voters(), conf.votersOutgoing(), v -> v == id, v -> false) == Quorum.VoteResult.WON;
        if (soleVoter || (cfg.leaseBasedReads() && leaseValid())) {
            deliverRead(from, log.committed, context);
            return;
        }
        pendingReads.add(new PendingRead(++readSeq, log.committed, context, from));
        heartbeatDue = true; // one heartbeat round, at the next Ready, confirms every read queued until then
    }

    /**
     * A quorum acknowledged a heartbeat round sent less than an election timeout ago. Each of them
     * ignores vote requests and does not campaign for an election timeout after receiving it, so no
     * other leader can exist yet. A transfer in progress voids the lease (TimeoutNow bypasses it).
     */
    private boolean leaseValid() {
        if (leadTransferee != NONE) return false;
        // Two ticks shorter than a follower's lease: a follower's tick phase may differ from ours by up to a
        // tick, and the round's send tick is only known to a tick's precision.
        long since = Math.max(leaderTicks - cfg.electionTicks() + LEASE_MARGIN_TICKS, leaseValidAfterTick);
        return Quorum.voteResult(conf.voters(), conf.votersOutgoing(),
                v -> v == id || leaseAckTick.getOrDefault(v, Long.MIN_VALUE) > since, v -> false) == Quorum.VoteResult.WON;
    }

    private void releaseReads() {
        while (!pendingReads.isEmpty()) {
            long seq = pendingReads.peek().seq();
            boolean confirmed = Quorum.voteResult(conf.voters(), conf.votersOutgoing(),
                    v -> v == id || (progress.containsKey(v) && progress.get(v).readSeqAcked >= seq), v -> false) == Quorum.VoteResult.WON;
            if (!confirmed) return;
            PendingRead r = pendingReads.poll();
            deliverRead(r.from(), r.index(), r.context());
        }
    }

    private void deliverRead(long from, long index, byte[] context) {
        if (from == id) readStates.add(new ReadState(index, context));
        else send(new ReadIndexResponse(id, from, term, index, context));
    }

    private void onFirstCommitInTerm() {
        while (!readsAwaitingCommit.isEmpty()) {
            PendingRead r = readsAwaitingCommit.poll();
            startRead(r.context(), r.from());
        }
    }

    private void abortForwardedReads() {
        readsAborted.addAll(forwardedReads);
        forwardedReads.clear();
    }

    private void abortReads() {
        for (PendingRead r : pendingReads) if (r.from() == id) readsAborted.add(r.context());
        for (PendingRead r : readsAwaitingCommit) if (r.from() == id) readsAborted.add(r.context());
        pendingReads.clear();
        readsAwaitingCommit.clear();
    }

    // ---- membership -----------------------------------------------------------------------

    @Override
    public ConfState applyConfChange(ConfChange change) {
        try {
            conf = Membership.apply(conf, change);
        } catch (Membership.InvalidChange e) {
            throw new Assert.InvariantViolation("committed conf change " + change + " is invalid for " + conf + ": " + e.getMessage());
        }
        syncProgress();
        if ((role == Role.CANDIDATE || role == Role.PRE_CANDIDATE) && !conf.isVoter(id)) {
            becomeFollower(term, NONE); // no longer a voter: this election can no longer be ours
        }
        if (role == Role.LEADER) {
            if (!conf.isVoter(id)) {
                becomeFollower(term, NONE); // removed or demoted: stop leading; the rest elect a new leader
            } else {
                if (leadTransferee != NONE && !conf.isVoter(leadTransferee)) leadTransferee = NONE;
                maybeCommit();
                bcastAppend(); // carries a new commit index, and new members need their first append
            }
        }
        return conf;
    }

    private void syncProgress() {
        long next = log.lastIndex() + 1;
        var members = conf.allMembers();
        progress.keySet().retainAll(members);
        for (long m : members) {
            Progress p = progress.computeIfAbsent(m, k -> newProgress(k, next));
            p.learner = !conf.isVoter(m);
        }
    }

    @Override
    public void reportSnapshot(long to, boolean success) {
        Progress pr = progress.get(to);
        if (role != Role.LEADER || pr == null || pr.state != Progress.State.SNAPSHOT) return;
        if (!success) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        pr.probeSent = true; // wait for the next heartbeat response before probing
    }

    @Override
    public void reportUnreachable(long to) {
        Progress pr = progress.get(to);
        if (role == Role.LEADER && pr != null && pr.state == Progress.State.REPLICATE) pr.becomeProbe();
    }

    // ---- Ready ----------------------------------------------------------------------------

    private SoftState softState() {
        return new SoftState(lead, role);
    }

    private HardState hardState() {
        return new HardState(term, vote, log.committed);
    }

    private void flushDueBroadcasts() {
        if (role == Role.LEADER) {
            if (appendsDue) bcastAppend();
            if (heartbeatDue) bcastHeartbeat();
        }
        appendsDue = false;
        heartbeatDue = false;
    }

    @Override
    public boolean hasReady() {
        flushDueBroadcasts();
        // Compared field by field: this runs on every driver iteration and must not allocate.
        boolean softChanged = lead != prevSoftState.leader() || role != prevSoftState.role();
        boolean hardChanged = term != prevHardState.term() || vote != prevHardState.vote() || log.committed != prevHardState.commit();
        return softChanged || hardChanged || log.hasUnstable()
                || !log.unstableSnapshot().isEmpty() || !msgs.isEmpty() || !leaderMsgs.isEmpty() || !readStates.isEmpty() || !readsAborted.isEmpty()
                || log.hasCommittedAfter(appliedFloor());
    }

    private long appliedFloor() {
        Snapshot s = log.unstableSnapshot();
        return s.isEmpty() ? log.applied : Math.max(log.applied, s.meta().index());
    }

    @Override
    public Ready ready() {
        Assert.that(!readyOutstanding, "ready() called twice without advance() on %d", id);
        flushDueBroadcasts();
        SoftState soft = softState();
        HardState hs = hardState();
        List<Entry> ents = log.unstableEntries();
        Snapshot snap = log.unstableSnapshot();
        List<Entry> committed = log.committedAfter(appliedFloor(), cfg.committedBytesPerReadyMax());
        boolean mustSync = !ents.isEmpty() || !snap.isEmpty() || hs.term() != prevHardState.term() || hs.vote() != prevHardState.vote();
        Ready rd = new Ready(soft, hs.equals(prevHardState) ? HardState.EMPTY : hs, ents, snap, leaderMsgs, msgs, committed, readStates,
                readsAborted, mustSync);
        msgs = new ArrayList<>();
        leaderMsgs = new ArrayList<>();
        readStates = new ArrayList<>();
        readsAborted = new ArrayList<>();
        prevSoftState = soft;
        prevHardState = hs;
        for (Entry e : committed) uncommittedBytes = Math.max(0, uncommittedBytes - e.sizeBytes());
        readyOutstanding = true;
        applyingIndex = committed.isEmpty() ? 0 : committed.get(committed.size() - 1).index();
        return rd;
    }

    @Override
    public void advance(Ready rd) {
        Assert.that(readyOutstanding, "advance() without ready() on %d", id);
        readyOutstanding = false;
        applyingIndex = 0;
        if (!rd.snapshot().isEmpty()) {
            log.stableSnapshotTo(rd.snapshot().meta().index());
            log.appliedTo(rd.snapshot().meta().index());
        }
        if (!rd.entries().isEmpty()) {
            Entry last = stableThrough(rd.entries());
            log.stableTo(last.index(), last.term());
            if (role == Role.LEADER && log.term(last.index()) == last.term()) {
                // The leader counts itself toward a quorum only for entries it has made durable.
                Progress self = progress.get(id);
                if (self != null && self.maybeUpdate(last.index()) && maybeCommit()) bcastCommit();
            }
        }
        if (!rd.committedEntries().isEmpty()) {
            log.appliedTo(rd.committedEntries().get(rd.committedEntries().size() - 1).index());
        }
        if (role == Role.LEADER && conf.isJoint() && conf.autoLeave() && pendingConfIndex <= log.applied && leadTransferee == NONE) {
            pendingConfIndex = appendEntry(EntryType.CONF_CHANGE, ConfChange.LEAVE_JOINT.encode());
            bcastAppend();
        }
        checkInvariants();
    }

    /**
     * The last of a persisted Ready's entries that the log still holds. A leader's append stepped
     * between {@code ready()} and {@code advance()} may have replaced the Ready's tail; the entries
     * before the replacement (same index and term, so the same entries) were written all the same
     * and are durable. Taking only the Ready's last entry would leave them unstable, and the next
     * Ready would write them again, below a compaction the application may have made meanwhile.
     */
    private Entry stableThrough(List<Entry> persisted) {
        for (int i = persisted.size() - 1; i > 0; i--) {
            Entry e = persisted.get(i);
            if (log.term(e.index()) == e.term()) return e;
        }
        return persisted.get(0);
    }

    private void checkInvariants() {
        Assert.that(log.applied <= log.committed, "node %d: applied %d > committed %d", id, log.applied, log.committed);
        Assert.that(log.committed <= log.lastIndex(), "node %d: committed %d > last index %d", id, log.committed, log.lastIndex());
        Assert.that(role != Role.LEADER || lead == id, "node %d leads but records leader %d", id, lead);
    }

    @Override
    public long leader() {
        return lead;
    }

    @Override
    public Status status() {
        if (role != Role.LEADER) return new Status(id, term, vote, role, lead, log.committed, log.applied, log.lastIndex(), conf);
        var match = new TreeMap<Long, Long>();
        for (var e : progress.entrySet()) match.put(e.getKey(), e.getValue().match);
        return new Status(id, term, vote, role, lead, log.committed, log.applied, log.lastIndex(), conf, match);
    }

    /**
     * Term of the entry at {@code index} in this member's log (durable or not), or 0 if it is
     * compacted away or beyond the end. Read-only introspection for operators and checkers.
     */
    public long logTerm(long index) {
        return log.term(index);
    }

    /** First index still held in the log (entries before it are in the snapshot). */
    public long logFirstIndex() {
        return log.firstIndex();
    }

    /** Progress of each follower as the leader sees it (for tests and operators). */
    public Map<Long, String> progressView() {
        var out = new TreeMap<Long, String>();
        progress.forEach((k, v) -> out.put(k, v.toString()));
        return out;
    }
}
