package io.synod.mvcc;

/** Acknowledges a logical compaction; physical removal continues in the background. */
public record CompactResponse(long revision) implements Response {}
