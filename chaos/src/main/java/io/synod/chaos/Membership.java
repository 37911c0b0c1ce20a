package io.synod.chaos;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.etcd.jetcd.api.ClusterGrpc;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberAddRequest;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Membership changes through etcd's Cluster API, as an operator (or etcdctl) makes them, for the
 * {@code membership} fault: add a member as a learner in a free slot (MemberAdd with
 * {@code is_learner}), start it with {@code --initial-cluster-state existing} on an empty data
 * directory, promote it once it is in sync (MemberPromote, retried while the leader says it is not),
 * and remove a member, the leader included (MemberRemove), waiting for it to stop by itself and
 * killing it if it does not. Each step is one of these, chosen from the seed and the current
 * member set (3 members up to the slots available; a learner left unpromoted is promoted first).
 *
 * <p>Calls fail under faults, and a failed change may still have happened. Outcomes are resolved
 * the way an operator would: a repeated add answered "Peer URLs already exists" or a repeated
 * remove answered "member not found" means the first attempt took effect; otherwise the member list
 * is read. An add whose outcome stays unknown is looked for again at the next step and when the run
 * settles ({@link #settle}), and adopted (started) if the cluster has it. The harness's view of the
 * members ({@link LocalCluster#members()}) therefore follows the cluster's, which is what clients
 * rotate through and what the checkers read at the end.
 */
final class Membership {
    private final RunContext ctx;
    private final LocalCluster cluster;
    private final long callMillis;
    /** Slots whose MemberAdd outcome is still unknown. */
    private final List<Integer> unresolvedAdds = new ArrayList<>();
    private int adds, promotes, removes, removedLeaders, refused;

    /** Budget of one change (its retries included). */
    static final long CHANGE_BUDGET_MILLIS = 20_000;
    /** How long a learner is given to catch up and be promoted within one step. */
    static final long PROMOTE_BUDGET_MILLIS = 30_000;
    /** How long a removed member is given to notice its removal and stop by itself before it is killed. */
    static final long REMOVED_STOP_MILLIS = 5_000;

    Membership(RunContext ctx, long callMillis) {
        this.ctx = ctx;
        this.cluster = ctx.cluster;
        this.callMillis = callMillis;
    }

    /** Whether this network lets members come and go (see {@link Network#supportsMembership()}). */
    boolean supported() {
        return cluster.network().supportsMembership() && cluster.slots() > cluster.founders();
    }

    String counts() {
        return adds + " learners added, " + promotes + " promoted, " + removes + " members removed (" + removedLeaders + " of them leaders), "
                + refused + " changes refused or unresolved";
    }

    /**
     * One membership change chosen from {@code random} and the current members; returns what happened.
     * Never throws for a failed change (it is described instead).
     */
    String step(SplittableRandom random) throws IOException, InterruptedException {
        boolean removeDraw = random.nextBoolean();
        boolean leaderDraw = random.nextInt(3) == 0;
        int slotDraw = random.nextInt(1 << 20);
        String adopted = resolveUnknownAdds();
        List<Integer> members = cluster.members();
        Optional<Integer> learner = members.stream().filter(s -> cluster.role(s) == LocalCluster.Role.LEARNER).findFirst();
        String what;
        if (learner.isPresent()) {
            what = promote(learner.get());
        } else if (!cluster.freeSlots().isEmpty() && (members.size() <= cluster.founders() || !removeDraw)) {
            List<Integer> free = cluster.freeSlots();
            what = addAndPromote(free.get(slotDraw % free.size()));
        } else if (members.size() > cluster.founders()) {
            int leader = cluster.leader();
            var voters = members.stream().filter(s -> cluster.role(s) == LocalCluster.Role.VOTER).toList();
            int victim = leaderDraw && leader >= 0 ? leader : voters.get(slotDraw % voters.size());
            what = remove(victim, victim == leader);
        } else {
            what = "no change possible (" + members.size() + " members, no free slot)";
        }
        return adopted.isEmpty() ? what : adopted + "; " + what;
    }

    /** After healing: resolves unknown adds and promotes a learner still waiting, so the run ends with the members it reports. */
    String settle() throws IOException, InterruptedException {
        var out = new ArrayList<String>();
        String adopted = resolveUnknownAdds();
        if (!adopted.isEmpty()) out.add(adopted);
        for (int s : cluster.members()) {
            if (cluster.role(s) == LocalCluster.Role.LEARNER) out.add(promote(s));
        }
        var listed = list(CHANGE_BUDGET_MILLIS);
        out.add("members at the end: " + describe(cluster.members()) + (listed.isPresent() ? ", the cluster lists " + listed.get().size() : ""));
        return String.join("; ", out);
    }

    // ---- the three changes ---------------------------------------------------------------------------

    private String addAndPromote(int slot) throws IOException, InterruptedException {
        String url = cluster.network().peerUrl(slot, slot);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CHANGE_BUDGET_MILLIS);
        Optional<Member> added = Optional.empty();
        String lastError = "";
        for (int k = 0; added.isEmpty() && System.nanoTime() < deadline; k++) {
            try {
                var r = ClusterGrpc.newBlockingStub(ctx.channel(k)).withDeadlineAfter(callMillis, TimeUnit.MILLISECONDS)
                        .memberAdd(MemberAddRequest.newBuilder().addPeerURLs(url).setIsLearner(true).build());
                added = Optional.of(r.getMember());
            } catch (StatusRuntimeException e) {
                lastError = e.getStatus().toString();
                String d = String.valueOf(e.getStatus().getDescription());
                if (d.contains("Peer URLs already exists") || d.contains("too many learner")) {
                    added = find(url); // an earlier attempt whose answer was lost may have added it
                    if (added.isEmpty() && d.contains("too many learner")) break;
                }
                if (added.isEmpty()) RunContext.sleep(300);
            }
        }
        if (added.isEmpty()) {
            refused++;
            unresolvedAdds.add(slot);
            return "add " + LocalCluster.name(slot) + " (" + url + ") as learner: outcome unknown after " + CHANGE_BUDGET_MILLIS + " ms (last "
                    + lastError + "); looked for again later";
        }
        adds++;
        return join(slot, added.get()) + "; " + promote(slot);
    }

    /** Records an added member and starts it, listing first a member that already knows it (the joiner asks that one first). */
    private String join(int slot, Member m) throws IOException, InterruptedException {
        String url = cluster.network().peerUrl(slot, slot);
        cluster.added(slot, m.getID(), m.getIsLearner());
        int knows = -1;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10_000);
        while (knows < 0 && System.nanoTime() < deadline) {
            for (int s : cluster.members()) {
                if (s == slot) continue;
                var l = listOn(s);
                if (l.isPresent() && l.get().stream().anyMatch(x -> x.getPeerURLsList().contains(url))) {
                    knows = s;
                    break;
                }
            }
            if (knows < 0) RunContext.sleep(200);
        }
        cluster.askFirst(slot, knows);
        cluster.start(slot);
        return "add " + LocalCluster.name(slot) + " as learner (id " + Long.toHexString(m.getID()) + "), started with existing (pid "
                + cluster.pid(slot) + ")";
    }

    private String promote(int slot) throws InterruptedException {
        long id = cluster.id(slot);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROMOTE_BUDGET_MILLIS);
        long start = System.nanoTime();
        String lastError = "";
        for (int k = 0; System.nanoTime() < deadline; k++) {
            try {
                ClientCalls.blockingUnaryCall(ctx.channel(k), PROMOTE, CallOptions.DEFAULT.withDeadlineAfter(callMillis, TimeUnit.MILLISECONDS), id);
                return promoted(slot, start);
            } catch (StatusRuntimeException e) {
                lastError = e.getStatus().toString();
                String d = String.valueOf(e.getStatus().getDescription());
                if (d.contains("can only promote a learner member") && !d.contains("in sync")) return promoted(slot, start); // an earlier attempt did
                RunContext.sleep(d.contains("in sync") ? 500 : 300);
            }
        }
        refused++;
        return "promote " + LocalCluster.name(slot) + ": not promoted within " + PROMOTE_BUDGET_MILLIS + " ms (last " + lastError + "), stays a learner";
    }

    private String promoted(int slot, long startNanos) {
        cluster.promoted(slot);
        promotes++;
        return "promote " + LocalCluster.name(slot) + " after " + (System.nanoTime() - startNanos) / 1_000_000 + " ms";
    }

    private String remove(int slot, boolean leader) throws IOException, InterruptedException {
        long id = cluster.id(slot);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CHANGE_BUDGET_MILLIS);
        boolean done = false;
        String lastError = "";
        for (int k = 0; !done && System.nanoTime() < deadline; k++) {
            if (cluster.memberSlot(k) == slot && cluster.members().size() > 1) continue; // ask another member (it forwards to the leader)
            try {
                ClusterGrpc.newBlockingStub(ctx.channel(k)).withDeadlineAfter(callMillis, TimeUnit.MILLISECONDS)
                        .memberRemove(MemberRemoveRequest.newBuilder().setID(id).build());
                done = true;
            } catch (StatusRuntimeException e) {
                lastError = e.getStatus().toString();
                if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                    done = true; // an earlier attempt removed it
                } else if (String.valueOf(e.getStatus().getDescription()).contains("not enough started")) {
                    refused++;
                    return "remove " + LocalCluster.name(slot) + ": refused (" + lastError + ")";
                } else {
                    RunContext.sleep(300);
                }
            }
        }
        if (!done) {
            // Still a member as far as anyone can tell; the next steps and the final checks treat it as one.
            refused++;
            return "remove " + LocalCluster.name(slot) + (leader ? " (the leader)" : "") + ": not confirmed within " + CHANGE_BUDGET_MILLIS
                    + " ms (last " + lastError + "); kept as a member";
        }
        removes++;
        if (leader) removedLeaders++;
        cluster.removed(slot);
        long pid = cluster.pid(slot);
        boolean wasPaused = cluster.isPaused(slot);
        String end;
        if (wasPaused || !cluster.isRunning(slot)) {
            cluster.kill(slot);
            end = wasPaused ? "it was paused: killed" : "it was not running";
        } else if (cluster.awaitExit(slot, REMOVED_STOP_MILLIS)) {
            end = "it stopped by itself";
        } else {
            cluster.kill(slot);
            end = "it had not stopped within " + REMOVED_STOP_MILLIS + " ms (cut off from the leader?): killed";
        }
        return "remove " + LocalCluster.name(slot) + (leader ? " (the leader)" : "") + " id " + Long.toHexString(id) + " (pid " + pid + "): " + end;
    }

    // ---- resolving unknown outcomes --------------------------------------------------------------------

    /** Adopts members the cluster has in slots whose add had an unknown outcome; forgets those it does not have. */
    private String resolveUnknownAdds() throws IOException, InterruptedException {
        if (unresolvedAdds.isEmpty()) return "";
        var out = new ArrayList<String>();
        for (int slot : List.copyOf(unresolvedAdds)) {
            Optional<Member> m = find(cluster.network().peerUrl(slot, slot));
            if (m.isPresent() && !cluster.isMember(slot)) {
                adds++;
                out.add("the unresolved add of " + LocalCluster.name(slot) + " had happened: " + join(slot, m.get()));
                unresolvedAdds.remove((Integer) slot);
            } else if (list(callMillis).isPresent()) {
                out.add("the unresolved add of " + LocalCluster.name(slot) + " had not happened");
                unresolvedAdds.remove((Integer) slot);
            }
        }
        return String.join("; ", out);
    }

    /** The member with peer URL {@code url} in the leader's member list (another member's if the leader does not answer). */
    private Optional<Member> find(String url) {
        return list(callMillis * 3).flatMap(l -> l.stream().filter(m -> m.getPeerURLsList().contains(url)).findFirst());
    }

    /** The member list, asked of the leader first (its applied state is the freshest), within {@code budgetMillis}. */
    private Optional<List<Member>> list(long budgetMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budgetMillis);
        for (int k = 0; System.nanoTime() < deadline; k++) {
            int leader = cluster.leader();
            int slot = k == 0 && leader >= 0 ? leader : cluster.memberSlot(k);
            var l = listOn(slot);
            if (l.isPresent()) return l;
            RunContext.sleep(200);
        }
        return Optional.empty();
    }

    private Optional<List<Member>> listOn(int slot) {
        try {
            return Optional.of(ClusterGrpc.newBlockingStub(cluster.channel(slot)).withDeadlineAfter(callMillis, TimeUnit.MILLISECONDS)
                    .memberList(MemberListRequest.getDefaultInstance()).getMembersList());
        } catch (StatusRuntimeException e) {
            return Optional.empty();
        }
    }

    private String describe(List<Integer> slots) {
        var l = new ArrayList<String>();
        for (int s : slots) l.add(LocalCluster.name(s) + (cluster.role(s) == LocalCluster.Role.LEARNER ? " (learner)" : ""));
        return "{" + String.join(", ", l) + "}";
    }

    // ---- MemberPromote, which the jetcd-grpc stubs lack: request {uint64 ID = 1}; the response is not needed ----

    static final MethodDescriptor<Long, byte[]> PROMOTE = MethodDescriptor.<Long, byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("etcdserverpb.Cluster/MemberPromote")
            .setRequestMarshaller(new MethodDescriptor.Marshaller<Long>() {
                @Override
                public InputStream stream(Long id) {
                    try {
                        var bytes = new ByteArrayOutputStream();
                        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
                        out.writeUInt64(1, id);
                        out.flush();
                        return new ByteArrayInputStream(bytes.toByteArray());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }

                @Override
                public Long parse(InputStream in) {
                    try {
                        CodedInputStream c = CodedInputStream.newInstance(in);
                        long id = 0;
                        for (int tag = c.readTag(); tag != 0; tag = c.readTag()) {
                            if (tag >>> 3 == 1) id = c.readUInt64();
                            else c.skipField(tag);
                        }
                        return id;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            })
            .setResponseMarshaller(new MethodDescriptor.Marshaller<byte[]>() {
                @Override
                public InputStream stream(byte[] b) {
                    return new ByteArrayInputStream(b);
                }

                @Override
                public byte[] parse(InputStream in) {
                    try {
                        return in.readAllBytes();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            })
            .build();
}
