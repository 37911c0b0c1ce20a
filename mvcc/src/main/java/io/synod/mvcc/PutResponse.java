package io.synod.mvcc;

import java.util.Optional;

/** The revision a put created and, if asked for and the key existed, the version it replaced. */
public record PutResponse(long revision, Optional<KeyValue> prevKv) implements Response {}
