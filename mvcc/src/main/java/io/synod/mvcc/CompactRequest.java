package io.synod.mvcc;

/**
 * Discards history before {@code revision}: reads below it fail from then on, and old versions
 * are removed physically in bounded background steps. ({@code physical} in etcd only changes when
 * the RPC returns, which is the server's business, so it is not part of the command.)
 */
public record CompactRequest(long revision) implements Command {}
