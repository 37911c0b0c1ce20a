package io.synod.storage.wal;

/**
 * Test-only emulation of a power cut on a process kill, for fault-injection runs against real
 * members ({@code synod server --synod-unsafe-power-cut-emulation}). A SIGKILL keeps the page
 * cache, so everything a process wrote survives it, flushed or not; a power cut keeps only what
 * was flushed. With emulation on, the {@link Wal} keeps every byte written since its last flush
 * in process memory and hands it to the file only as part of a flush (write, then force), so a
 * SIGKILL loses exactly the unflushed tail, the most a power cut can lose. Structural changes
 * (a segment roll, a truncation, recovery's clearing of a torn tail) flush first, as they do in
 * real mode. What it does not emulate: a torn or reordered partial flush (a power cut in the
 * middle of a flush), which the crash and fuzz tests of the WAL cover, and losses in other files.
 */
public enum PowerCutEmulation {
    /** Production: writes reach the file (and the page cache) at once; flushes make them durable. */
    OFF,
    /** Unflushed bytes live only in process memory until the next flush: a kill drops them. */
    ON,
    /**
     * Negative control, deliberately broken: as {@link #ON}, but a flush that acknowledges a batch
     * is skipped while the oldest unflushed byte is younger than {@link #ACK_BEFORE_FSYNC_DELAY_MILLIS},
     * so acknowledged records can be lost by a kill. A checker that never sees a lost write in this
     * mode is not looking.
     */
    ACK_BEFORE_FSYNC;

    /** How long {@link #ACK_BEFORE_FSYNC} holds acknowledged bytes in memory before it really flushes them. */
    public static final long ACK_BEFORE_FSYNC_DELAY_MILLIS = 2000;

    /** Parses the server flag's value: {@code true}/{@code on}, {@code false}/{@code off}, or {@code ack-before-fsync}. */
    public static PowerCutEmulation parse(String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "on" -> ON;
            case "false", "off" -> OFF;
            case "ack-before-fsync" -> ACK_BEFORE_FSYNC;
            default -> throw new IllegalArgumentException("power-cut emulation must be true, false or ack-before-fsync, got '" + value + "'");
        };
    }
}
