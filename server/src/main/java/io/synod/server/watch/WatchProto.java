package io.synod.server.watch;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.Event;
import io.synod.mvcc.KeyValue;
import io.synod.mvcc.watch.WatchHub;
import io.synod.mvcc.watch.WatchSpec;
import java.util.List;

/**
 * Conversions between etcd's watch messages and the hub's types. The jetcd-generated classes come
 * from an older rpc.proto that lacks {@code WatchCreateRequest.watch_id} (field 7) and
 * {@code fragment} (8) and {@code WatchResponse.fragment} (7); protobuf keeps them as unknown
 * fields, so they are read and written here by number, exactly as etcd 3.4 puts them on the wire.
 */
final class WatchProto {
    static final int CREATE_WATCH_ID_FIELD = 7;
    static final int CREATE_FRAGMENT_FIELD = 8;
    static final int RESPONSE_FRAGMENT_FIELD = 7;

    private WatchProto() {}

    static Bytes bytes(ByteString b) {
        return Bytes.copyOf(b.toByteArray());
    }

    static ByteString byteString(Bytes b) {
        return ByteString.copyFrom(b.toByteArray());
    }

    /** The hub's spec for a create request, with etcd's conventions: an empty key is "\0", start 0 is "now". */
    static WatchSpec spec(WatchCreateRequest r) {
        Bytes key = r.getKey().isEmpty() ? Bytes.ZERO : bytes(r.getKey());
        boolean noPut = false, noDelete = false;
        for (WatchCreateRequest.FilterType f : r.getFiltersList()) {
            if (f == WatchCreateRequest.FilterType.NOPUT) noPut = true;
            if (f == WatchCreateRequest.FilterType.NODELETE) noDelete = true;
        }
        return new WatchSpec(watchId(r), key, bytes(r.getRangeEnd()), r.getStartRevision(), noPut, noDelete, r.getPrevKv(),
                r.getProgressNotify());
    }

    static long watchId(WatchCreateRequest r) {
        return lastVarint(r.getUnknownFields(), CREATE_WATCH_ID_FIELD, WatchHub.AUTO_WATCH_ID);
    }

    static boolean fragment(WatchCreateRequest r) {
        return lastVarint(r.getUnknownFields(), CREATE_FRAGMENT_FIELD, 0) != 0;
    }

    private static long lastVarint(UnknownFieldSet fields, int number, long absent) {
        if (!fields.hasField(number)) return absent;
        List<Long> values = fields.getField(number).getVarintList();
        return values.isEmpty() ? absent : values.get(values.size() - 1); // proto3: the last occurrence wins
    }

    static WatchCreateRequest.Builder withWatchId(WatchCreateRequest.Builder b, long id) {
        return b.setUnknownFields(UnknownFieldSet.newBuilder(b.getUnknownFields())
                .addField(CREATE_WATCH_ID_FIELD, UnknownFieldSet.Field.newBuilder().addVarint(id).build()).build());
    }

    static WatchCreateRequest.Builder withFragment(WatchCreateRequest.Builder b) {
        return b.setUnknownFields(UnknownFieldSet.newBuilder(b.getUnknownFields())
                .addField(CREATE_FRAGMENT_FIELD, UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build());
    }

    static WatchResponse.Builder markFragment(WatchResponse.Builder b) {
        return b.setUnknownFields(UnknownFieldSet.newBuilder()
                .addField(RESPONSE_FRAGMENT_FIELD, UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build());
    }

    static boolean isFragment(WatchResponse r) {
        return lastVarint(r.getUnknownFields(), RESPONSE_FRAGMENT_FIELD, 0) != 0;
    }

    static io.etcd.jetcd.api.KeyValue kv(KeyValue kv) {
        return io.synod.server.EtcdProto.kv(kv);
    }

    static io.etcd.jetcd.api.Event event(Event e) {
        var b = io.etcd.jetcd.api.Event.newBuilder()
                .setType(e.type() == Event.Type.PUT ? io.etcd.jetcd.api.Event.EventType.PUT : io.etcd.jetcd.api.Event.EventType.DELETE)
                .setKv(kv(e.kv()));
        e.prevKv().ifPresent(p -> b.setPrevKv(kv(p)));
        return b.build();
    }
}
