package io.synod.storage.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalDumpTest {
    @TempDir Path dir;

    private String dump(int expectedStatus) throws IOException {
        var bytes = new ByteArrayOutputStream();
        int status = WalDump.dump(dir, WalTestSupport.SMALL.recordBytesMax(), false, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(status).as(out).isEqualTo(expectedStatus);
        return out;
    }

    private List<WalPosition> fill() throws IOException {
        try (Wal wal = Wal.open(dir, WalTestSupport.SMALL)) {
            var positions = new java.util.ArrayList<WalPosition>();
            for (int i = 0; i < 60; i++) positions.addAll(wal.appendSync(List.of(new WalWrite((byte) 4, new byte[250]))).positions());
            return positions;
        }
    }

    @Test
    void listsRecordsOfAnIntactLog() throws IOException {
        fill();
        String out = dump(WalDump.OK);
        assertThat(out).contains("record 1 type 4 length 250 crc ok offset 32").contains("record 60 type 4").contains("60 records, intact");
    }

    @Test
    void reportsMidLogCorruptionWithFileAndOffsetAndExit1() throws IOException {
        var positions = fill();
        WalPosition victim = positions.get(positions.size() - 5);
        Path seg = dir.resolve(String.format("%016x.wal", victim.segmentSeq()));
        byte[] b = Files.readAllBytes(seg);
        b[victim.offset() + 20] ^= 1;
        Files.write(seg, b);
        String out = dump(WalDump.CORRUPT);
        assertThat(out).contains("CORRUPTION in " + seg + " at byte offset " + victim.offset()).contains("CRC mismatch");
        // dump never repairs: the file is unchanged
        assertThat(Files.readAllBytes(seg)).isEqualTo(b);
    }

    @Test
    void aTornTailIsReportedButIsNotCorruption() throws IOException {
        var positions = fill();
        WalPosition last = positions.getLast();
        Path seg = dir.resolve(String.format("%016x.wal", last.segmentSeq()));
        byte[] b = Files.readAllBytes(seg);
        b[last.offset() + 100] ^= 1;
        Files.write(seg, b);
        assertThat(dump(WalDump.OK)).contains("torn tail in " + seg + " at byte offset " + last.offset());
    }
}
