package io.synod.server.watch;

import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchResponse;

/** Lets tests in other packages set and read the watch fields jetcd's generated classes lack. */
public final class WatchProtoAccess {
    private WatchProtoAccess() {}

    public static WatchCreateRequest.Builder withWatchId(WatchCreateRequest.Builder b, long id) {
        return WatchProto.withWatchId(b, id);
    }

    public static WatchCreateRequest.Builder withFragment(WatchCreateRequest.Builder b) {
        return WatchProto.withFragment(b);
    }

    public static boolean isFragment(WatchResponse r) {
        return WatchProto.isFragment(r);
    }
}
