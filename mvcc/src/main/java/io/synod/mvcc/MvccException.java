package io.synod.mvcc;

/**
 * Thrown by the read paths (range, change catch-up) when a request cannot be served, carrying
 * the {@link MvccError} so the server can turn it into a status without parsing messages.
 */
public final class MvccException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient MvccError error;

    public MvccException(MvccError error) {
        super(error.message());
        this.error = error;
    }

    public MvccError error() {
        return error;
    }
}
