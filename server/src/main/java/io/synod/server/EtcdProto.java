package io.synod.server;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.etcd.jetcd.api.CompactionResponse;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.ResponseOp;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.Compare;
import io.synod.mvcc.CompactResponse;
import io.synod.mvcc.DeleteRangeRequest;
import io.synod.mvcc.DeleteRangeResponse;
import io.synod.mvcc.KeyValue;
import io.synod.mvcc.MvccError;
import io.synod.mvcc.PutRequest;
import io.synod.mvcc.PutResponse;
import io.synod.mvcc.RangeRequest;
import io.synod.mvcc.RangeResponse;
import io.synod.mvcc.RequestOp;
import io.synod.mvcc.Response;
import io.synod.mvcc.TxnRequest;
import io.synod.mvcc.TxnResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Translation between the etcd v3 protobuf messages (jetcd-grpc's generated classes) and the MVCC
 * store's records, in both directions, plus the mapping of {@link MvccError} to gRPC status with
 * etcd's exact message text. Protobuf types stop here: nothing past the API layer sees them.
 */
public final class EtcdProto {
    private EtcdProto() {}

    static Bytes bytes(ByteString b) {
        return b.isEmpty() ? Bytes.EMPTY : Bytes.copyOf(b.toByteArray());
    }

    static ByteString byteString(Bytes b) {
        return b.isEmpty() ? ByteString.EMPTY : ByteString.copyFrom(b.toByteArray());
    }

    static StatusRuntimeException error(MvccError e) {
        Status.Code code = switch (e.code()) {
            case INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
            case OUT_OF_RANGE -> Status.Code.OUT_OF_RANGE;
            case FAILED_PRECONDITION -> Status.Code.FAILED_PRECONDITION;
            case NOT_FOUND -> Status.Code.NOT_FOUND;
            case RESOURCE_EXHAUSTED -> Status.Code.RESOURCE_EXHAUSTED;
            case DATA_LOSS -> Status.Code.DATA_LOSS;
        };
        return Status.fromCode(code).withDescription(e.message()).asRuntimeException();
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    // ---- requests -----------------------------------------------------------------------------

    static RangeRequest range(io.etcd.jetcd.api.RangeRequest r) {
        var order = switch (r.getSortOrder()) {
            case NONE -> RangeRequest.SortOrder.NONE;
            case ASCEND -> RangeRequest.SortOrder.ASCEND;
            case DESCEND -> RangeRequest.SortOrder.DESCEND;
            default -> throw invalid("etcdserver: invalid sort option");
        };
        var target = switch (r.getSortTarget()) {
            case KEY -> RangeRequest.SortTarget.KEY;
            case VERSION -> RangeRequest.SortTarget.VERSION;
            case CREATE -> RangeRequest.SortTarget.CREATE;
            case MOD -> RangeRequest.SortTarget.MOD;
            case VALUE -> RangeRequest.SortTarget.VALUE;
            default -> throw invalid("etcdserver: invalid sort option");
        };
        return new RangeRequest(bytes(r.getKey()), bytes(r.getRangeEnd()), r.getLimit(), r.getRevision(), order, target,
                r.getSerializable(), r.getKeysOnly(), r.getCountOnly(), r.getMinModRevision(), r.getMaxModRevision(),
                r.getMinCreateRevision(), r.getMaxCreateRevision());
    }

    static PutRequest put(io.etcd.jetcd.api.PutRequest p) {
        return new PutRequest(bytes(p.getKey()), bytes(p.getValue()), p.getLease(), p.getPrevKv(), p.getIgnoreValue(), p.getIgnoreLease());
    }

    static DeleteRangeRequest delete(io.etcd.jetcd.api.DeleteRangeRequest d) {
        return new DeleteRangeRequest(bytes(d.getKey()), bytes(d.getRangeEnd()), d.getPrevKv());
    }

    static TxnRequest txn(io.etcd.jetcd.api.TxnRequest t) {
        var compares = new ArrayList<Compare>(t.getCompareCount());
        for (io.etcd.jetcd.api.Compare c : t.getCompareList()) compares.add(compare(c));
        return new TxnRequest(compares, ops(t.getSuccessList()), ops(t.getFailureList()));
    }

    private static List<RequestOp> ops(List<io.etcd.jetcd.api.RequestOp> list) {
        var out = new ArrayList<RequestOp>(list.size());
        for (io.etcd.jetcd.api.RequestOp op : list) {
            out.add(switch (op.getRequestCase()) {
                case REQUEST_RANGE -> range(op.getRequestRange());
                case REQUEST_PUT -> put(op.getRequestPut());
                case REQUEST_DELETE_RANGE -> delete(op.getRequestDeleteRange());
                case REQUEST_TXN -> txn(op.getRequestTxn());
                case REQUEST_NOT_SET -> throw invalid("etcdserver: txn request op is empty");
            });
        }
        return out;
    }

    private static Compare compare(io.etcd.jetcd.api.Compare c) {
        var op = switch (c.getResult()) {
            case EQUAL -> Compare.Op.EQUAL;
            case GREATER -> Compare.Op.GREATER;
            case LESS -> Compare.Op.LESS;
            case NOT_EQUAL -> Compare.Op.NOT_EQUAL;
            default -> throw invalid("etcdserver: invalid compare result");
        };
        Compare.Target target = switch (c.getTarget()) {
            case VERSION -> new Compare.Version(c.getVersion());
            case CREATE -> new Compare.Create(c.getCreateRevision());
            case MOD -> new Compare.Mod(c.getModRevision());
            case VALUE -> new Compare.Value(bytes(c.getValue()));
            default -> throw invalid("etcdserver: invalid compare target");
        };
        return new Compare(bytes(c.getKey()), bytes(c.getRangeEnd()), op, target);
    }

    // ---- responses ----------------------------------------------------------------------------

    public static io.etcd.jetcd.api.KeyValue kv(KeyValue kv) {
        return io.etcd.jetcd.api.KeyValue.newBuilder()
                .setKey(byteString(kv.key()))
                .setCreateRevision(kv.createRevision())
                .setModRevision(kv.modRevision())
                .setVersion(kv.version())
                .setValue(byteString(kv.value()))
                .setLease(kv.lease())
                .build();
    }

    static io.etcd.jetcd.api.RangeResponse range(RangeResponse r, LongFunction<ResponseHeader> header) {
        var b = io.etcd.jetcd.api.RangeResponse.newBuilder().setHeader(header.apply(r.revision())).setMore(r.more()).setCount(r.count());
        for (KeyValue kv : r.kvs()) b.addKvs(kv(kv));
        return b.build();
    }

    static io.etcd.jetcd.api.PutResponse put(PutResponse r, LongFunction<ResponseHeader> header) {
        var b = io.etcd.jetcd.api.PutResponse.newBuilder().setHeader(header.apply(r.revision()));
        r.prevKv().ifPresent(kv -> b.setPrevKv(kv(kv)));
        return b.build();
    }

    static io.etcd.jetcd.api.DeleteRangeResponse delete(DeleteRangeResponse r, LongFunction<ResponseHeader> header) {
        var b = io.etcd.jetcd.api.DeleteRangeResponse.newBuilder().setHeader(header.apply(r.revision())).setDeleted(r.deleted());
        for (KeyValue kv : r.prevKvs()) b.addPrevKvs(kv(kv));
        return b.build();
    }

    static io.etcd.jetcd.api.TxnResponse txn(TxnResponse r, LongFunction<ResponseHeader> header) {
        var b = io.etcd.jetcd.api.TxnResponse.newBuilder().setHeader(header.apply(r.revision())).setSucceeded(r.succeeded());
        for (Response sub : r.responses()) {
            b.addResponses(switch (sub) {
                case RangeResponse rr -> ResponseOp.newBuilder().setResponseRange(range(rr, header)).build();
                case PutResponse pr -> ResponseOp.newBuilder().setResponsePut(put(pr, header)).build();
                case DeleteRangeResponse dr -> ResponseOp.newBuilder().setResponseDeleteRange(delete(dr, header)).build();
                case TxnResponse tr -> ResponseOp.newBuilder().setResponseTxn(txn(tr, header)).build();
                case CompactResponse cr -> throw new IllegalStateException("a txn cannot contain a compaction");
                case io.synod.mvcc.LeaseResponse lr -> throw new IllegalStateException("a txn cannot contain a lease operation");
                case io.synod.mvcc.AlarmResponse ar -> throw new IllegalStateException("a txn cannot contain an alarm");
                case io.synod.mvcc.AuthResponse ar -> throw new IllegalStateException("a txn cannot contain an auth change");
            });
        }
        return b.build();
    }

    static CompactionResponse compact(CompactResponse r, LongFunction<ResponseHeader> header) {
        return CompactionResponse.newBuilder().setHeader(header.apply(r.revision())).build();
    }
}
