package io.synod.consensus;

/**
 * Volatile facts the application may want to react to (who leads, our role); never persisted.
 *
 * @param leader the known leader, or {@link #NO_LEADER}
 */
public record SoftState(long leader, Role role) {
    public static final long NO_LEADER = 0;
}
