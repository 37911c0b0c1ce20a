package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.etcd.jetcd.api.DefragmentRequest;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Log lines written for a member carry its name, and request-handling lines its term, in the
 * MDC: checked on the ticker thread's leader-change line and on a gRPC handler's line, with two
 * members in one JVM so that a shared thread pool mixing them up would show.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemberMdcTest {
    @TempDir Path dir;

    @Test
    void memberAndTermAreInTheMdcOfItsThreads() throws Exception {
        var appender = new ListAppender<ILoggingEvent>();
        appender.start();
        var root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        try (var cluster = new TestCluster(dir, 2)) {
            int leader = cluster.awaitLeader(10_000);
            int other = 1 - leader;
            URI u = cluster.configs.get(other).clientUrl();
            var channel = NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
            try {
                MaintenanceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS).defragment(DefragmentRequest.getDefaultInstance());
            } finally {
                channel.shutdownNow();
            }
            String otherName = cluster.configs.get(other).name();
            List<ILoggingEvent> events = List.copyOf(appender.list);
            var leaderLines = events.stream().filter(e -> e.getFormattedMessage().contains("leader is now")).toList();
            assertThat(leaderLines).isNotEmpty();
            for (ILoggingEvent e : leaderLines) {
                assertThat(e.getFormattedMessage()).startsWith("member " + e.getMDCPropertyMap().get(MemberMdc.MEMBER) + ":");
            }
            var defrag = events.stream().filter(e -> e.getFormattedMessage().startsWith("defragmented")).toList();
            assertThat(defrag).hasSize(1);
            assertThat(defrag.get(0).getMDCPropertyMap()).containsEntry(MemberMdc.MEMBER, otherName)
                    .containsEntry(MemberMdc.TERM, Long.toString(cluster.servers[other].driver().term()));
        } finally {
            root.detachAppender(appender);
        }
    }
}
