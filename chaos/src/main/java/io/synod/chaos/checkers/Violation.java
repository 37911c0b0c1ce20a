package io.synod.chaos.checkers;

/**
 * One broken guarantee found in a recorded history: which workload's checker found it, a short
 * kind ({@code lost-write}, {@code stale-read}, ...), what exactly was seen, and the smallest window
 * of the history that shows it (as text the report prints verbatim, so a reader can see the
 * offending operations without the whole history).
 */
public record Violation(String workload, String kind, String detail, String window) {
    @Override
    public String toString() {
        return workload + ": " + kind + ": " + detail;
    }
}
