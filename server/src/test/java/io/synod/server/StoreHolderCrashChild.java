package io.synod.server;

import io.synod.mvcc.MvccOptions;
import java.nio.file.Path;

/**
 * Child process of {@link StoreHolderCrashTest}: installs the states of two source stores into
 * a data directory, alternately and forever, printing one line per completed install, until it is
 * killed. Arguments: data dir, source a, source b.
 */
public final class StoreHolderCrashChild {
    private StoreHolderCrashChild() {}

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Path[] sources = {Path.of(args[1]), Path.of(args[2])};
        Path staging = data.resolve("snap");
        StoreHolder.deleteTree(staging); // what a restarting member's inbox does
        try (StoreHolder h = StoreHolder.open(data, MvccOptions.defaults())) {
            for (long n = 0; ; n++) {
                Path staged = StoreHolderTest.stage(sources[(int) (n % 2)], staging, "staged-" + n);
                h.install(staged);
                System.out.println("installed " + n);
                System.out.flush();
            }
        }
    }
}
