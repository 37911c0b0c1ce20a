package io.synod.storage.raftlog;

import io.synod.common.Assert;
import io.synod.consensus.Entry;
import java.util.ArrayList;
import java.util.Optional;

/**
 * The most recent entries of the log, bounded by bytes: replication and apply mostly read just
 * behind the tail, so these reads need no disk access. Holds a contiguous run of indices ending
 * at the log's last index.
 */
final class EntryCache {
    private final long bytesMax;
    private final ArrayList<Entry> entries = new ArrayList<>();
    private int head;
    private long bytes;

    EntryCache(long bytesMax) {
        this.bytesMax = bytesMax;
    }

    private int size() {
        return entries.size() - head;
    }

    private long firstIndex() {
        return entries.get(head).index();
    }

    Optional<Entry> get(long index) {
        if (size() == 0) return Optional.empty();
        long off = index - firstIndex();
        if (off < 0 || off >= size()) return Optional.empty();
        return Optional.of(entries.get(head + (int) off));
    }

    /** Adds entries that were just appended at {@code batch.get(0).index()}, dropping any cached suffix they overwrite. */
    void append(java.util.List<Entry> batch) {
        if (batch.isEmpty()) return;
        long first = batch.get(0).index();
        while (size() > 0 && entries.get(entries.size() - 1).index() >= first) {
            bytes -= entries.remove(entries.size() - 1).sizeBytes();
        }
        if (size() > 0 && entries.get(entries.size() - 1).index() + 1 != first) clear();
        for (Entry e : batch) {
            entries.add(e);
            bytes += e.sizeBytes();
        }
        while (size() > 0 && bytes > bytesMax) dropHead();
        Assert.that(bytes >= 0, "entry cache byte count %d negative", bytes);
    }

    /** Drops entries at or below {@code index} (compacted away). */
    void dropThrough(long index) {
        while (size() > 0 && firstIndex() <= index) dropHead();
    }

    /** Drops entries above {@code index}. */
    void dropAfter(long index) {
        while (size() > 0 && entries.get(entries.size() - 1).index() > index) {
            bytes -= entries.remove(entries.size() - 1).sizeBytes();
        }
    }

    void clear() {
        entries.clear();
        head = 0;
        bytes = 0;
    }

    private void dropHead() {
        bytes -= entries.get(head).sizeBytes();
        entries.set(head, null);
        head++;
        if (size() == 0) {
            entries.clear();
            head = 0;
        } else if (head > 1024 && head > entries.size() / 2) {
            var rest = new ArrayList<>(entries.subList(head, entries.size()));
            entries.clear();
            entries.addAll(rest);
            head = 0;
        }
    }
}

