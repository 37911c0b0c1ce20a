package io.synod.server;

import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;

/**
 * The part of etcd's Maintenance service this increment offers: {@code Status}, which reports
 * the member's view of the leader, its raft term and applied index, so {@code etcdctl endpoint
 * status} and tests can find the leader. The other calls answer UNIMPLEMENTED.
 */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {
    /** The etcd API version reported; clients use it to decide which features they may call. */
    static final String API_VERSION = "3.5.0";

    private final KvService kv;
    private final ReplicaDriver driver;
    private final StoreHolder store;

    MaintenanceService(KvService kv, ReplicaDriver driver, StoreHolder store) {
        this.kv = kv;
        this.driver = driver;
        this.store = store;
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
        out.onNext(StatusResponse.newBuilder()
                .setHeader(kv.header(store.read(MvccStore::currentRevision)))
                .setVersion(API_VERSION)
                .setLeader(driver.leader())
                .setRaftIndex(driver.appliedIndex())
                .setRaftTerm(driver.term())
                .build());
        out.onCompleted();
    }
}
