package io.synod.cli;

import io.synod.bench.trace.TraceReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code synod bench trace}: joins the entry traces that the members of a local cluster wrote
 * (started with {@code SYNOD_JAVA_OPTS=-Dsynod.trace.sampleEvery=N}, written when each member
 * stops) and prints where a write's time went, member by member; a thin wrapper over
 * {@link TraceReport}.
 */
@Command(name = "trace", mixinStandardHelpOptions = true,
        description = "Where a write's time went: joins the members' trace.tsv files of a stopped cluster directory.")
public final class BenchTraceCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "the cluster directory ('synod cluster start --dir'); reads <dir>/<member>/trace.tsv")
    Path dir;

    @Override
    public Integer call() throws IOException {
        List<Path> traces = new ArrayList<>();
        try (Stream<Path> members = Files.list(dir)) {
            members.map(m -> m.resolve("trace.tsv")).filter(Files::isRegularFile).sorted().forEach(traces::add);
        }
        if (traces.isEmpty()) {
            System.err.println("synod bench trace: no <member>/trace.tsv under " + dir
                    + "; start the members with SYNOD_JAVA_OPTS=-Dsynod.trace.sampleEvery=64 and stop them first");
            return 1;
        }
        var report = new TraceReport();
        for (Path t : traces) {
            try (var in = Files.newBufferedReader(t)) {
                report.add(t.getParent().getFileName().toString(), in);
            }
        }
        System.out.println("entries=" + report.entries() + " members=" + traces.size());
        System.out.print(report.table());
        return 0;
    }
}
