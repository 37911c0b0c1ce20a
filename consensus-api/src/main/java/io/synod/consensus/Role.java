package io.synod.consensus;

/** A member's role in its group. */
public enum Role { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER }
