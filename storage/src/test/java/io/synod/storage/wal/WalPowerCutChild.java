package io.synod.storage.wal;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The process {@link WalPowerCutTest} kills: opens a WAL with the power-cut emulation given on the
 * command line, appends {@link #FLUSHED} records in flushed batches (crossing segment boundaries),
 * then {@link #UNFLUSHED} more without a flush, reads the last one back, prints {@code ready} and
 * waits to be killed (exits by itself after a safety timeout).
 */
public final class WalPowerCutChild {
    static final WalOptions OPTIONS = new WalOptions(16 * 1024, 1024, 64, 16 * 1024, 1024, SyncMode.FDATASYNC);
    static final int FLUSHED = 120;
    static final int UNFLUSHED = 7;
    static final int BATCH = 4;

    static byte[] payload(long index) {
        return WalTestSupport.payload(index, 200 + (int) (index % 50));
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        PowerCutEmulation mode = PowerCutEmulation.valueOf(args[1]);
        var out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
        Wal wal = Wal.open(dir, OPTIONS.withPowerCut(mode));
        long index = wal.nextIndex();
        while (index <= FLUSHED) {
            var batch = new java.util.ArrayList<WalWrite>();
            for (int i = 0; i < BATCH && index <= FLUSHED; i++) batch.add(new WalWrite((byte) 1, payload(index++)));
            wal.appendBatch(batch, true);
        }
        AppendResult last = null;
        for (int i = 0; i < UNFLUSHED; i++) last = wal.appendBatch(List.of(new WalWrite((byte) 2, payload(index++))), false);
        WalRecordData back = wal.read(last.positions().get(0));
        if (!java.util.Arrays.equals(back.payload(), payload(index - 1))) {
            System.err.println("unflushed record " + (index - 1) + " did not read back");
            System.exit(3);
        }
        out.println("ready segments=" + wal.segmentCount() + " next=" + wal.nextIndex());
        Thread.sleep(30_000);
        System.err.println("child was not killed within 30 s");
        System.exit(2);
    }
}
