package io.synod.mvcc;

/**
 * A user-visible failure of a request, carrying the status code the gRPC layer will map to and
 * the exact message text etcd clients match on. The constants are the complete set the state
 * machine produces; errors are values so a rejected command can be returned, replicated in
 * results and compared in tests like any other outcome.
 */
public record MvccError(Code code, String message) {
    /** Mirrors the subset of gRPC status codes etcd uses for key-value errors. */
    public enum Code { INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION, NOT_FOUND, RESOURCE_EXHAUSTED, DATA_LOSS }

    public static final MvccError COMPACTED =
            new MvccError(Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
    public static final MvccError FUTURE_REVISION =
            new MvccError(Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
    public static final MvccError KEY_NOT_FOUND = new MvccError(Code.INVALID_ARGUMENT, "etcdserver: key not found");
    public static final MvccError VALUE_PROVIDED = new MvccError(Code.INVALID_ARGUMENT, "etcdserver: value is provided");
    public static final MvccError LEASE_PROVIDED = new MvccError(Code.INVALID_ARGUMENT, "etcdserver: lease is provided");
    public static final MvccError EMPTY_KEY = new MvccError(Code.INVALID_ARGUMENT, "etcdserver: key is not provided");
    public static final MvccError DUPLICATE_KEY =
            new MvccError(Code.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request");
    public static final MvccError TOO_MANY_OPS =
            new MvccError(Code.INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
    /** The NOSPACE alarm is raised: the store refuses writes that would grow it. */
    public static final MvccError NO_SPACE = new MvccError(Code.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded");
    /** The CORRUPT alarm is raised: members disagree about the data, so the store refuses every write. */
    public static final MvccError CORRUPT = new MvccError(Code.DATA_LOSS, "etcdserver: corrupt cluster");
    public static final MvccError LEASE_NOT_FOUND = new MvccError(Code.NOT_FOUND, "etcdserver: requested lease not found");
    public static final MvccError LEASE_EXISTS = new MvccError(Code.FAILED_PRECONDITION, "etcdserver: lease already exists");
    public static final MvccError LEASE_TTL_TOO_LARGE = new MvccError(Code.OUT_OF_RANGE, "etcdserver: too large lease TTL");
    /** Synod-specific: nesting beyond {@link MvccOptions#maxTxnDepth()}; etcd bounds this only by request size. */
    public static final MvccError TXN_TOO_DEEP =
            new MvccError(Code.INVALID_ARGUMENT, "synod: txn request nested too deeply");

    /**
     * Synod-specific, for reads only (never produced by applying a command): a range whose keys and
     * values add up to more than the member's {@code --synod-range-response-bytes-max}.
     */
    public static MvccError rangeTooLarge(long bytesMax) {
        return new MvccError(Code.RESOURCE_EXHAUSTED, "synod: range reads more than " + bytesMax
                + " bytes of keys and values (--synod-range-response-bytes-max); narrow it, or page through it with a limit");
    }

    public MvccException exception() {
        return new MvccException(this);
    }
}
