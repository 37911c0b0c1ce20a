package io.synod.consensus;

/**
 * A read-only view of a member for operators, metrics and tests (never used to make decisions
 * outside the core).
 */
public record Status(long id, long term, long vote, Role role, long leader, long commitIndex, long appliedIndex, long lastIndex, ConfState confState) {}
