package io.synod.chaos;

import io.synod.chaos.checkers.Violation;
import java.util.List;

/**
 * One client workload of a run: it starts its client threads, stops them when the fault phase
 * is over, and after every fault has healed reads whatever final state it needs and checks its
 * history. {@link #summary} gives the operation counts for the report.
 */
public interface Workload {
    String name();

    void start();

    /** Stops and joins the client threads (the run context is already stopping). */
    void stopClients() throws InterruptedException;

    /** Called after healing and convergence: final reads and the check. */
    List<Violation> finishAndCheck() throws Exception;

    String summary();
}
