package io.synod.consensus;

/**
 * The state a member must make durable before it acts on it: the current term, the candidate
 * it voted for in that term, and the highest index it knows to be committed. A vote that is
 * sent but not persisted lets a restarted member vote twice in one term (two leaders).
 *
 * @param vote the member voted for in {@code term}, or {@link #NO_VOTE}
 */
public record HardState(long term, long vote, long commit) {
    public static final long NO_VOTE = 0;
    public static final HardState EMPTY = new HardState(0, NO_VOTE, 0);

    public HardState {
        if (term < 0 || vote < 0 || commit < 0) {
            throw new IllegalArgumentException("hard state fields must be >= 0: " + term + "/" + vote + "/" + commit);
        }
    }

    public boolean isEmpty() {
        return equals(EMPTY);
    }
}
