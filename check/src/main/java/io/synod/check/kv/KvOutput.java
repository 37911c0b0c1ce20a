package io.synod.check.kv;

/**
 * A response in the key-value register model; each {@link KvInput} kind has exactly one matching
 * output kind ({@code Put -> PutOk}, {@code Get -> GetResult}, {@code Cas -> CasResult}).
 */
public sealed interface KvOutput {
    /** A put was acknowledged. */
    record PutOk() implements KvOutput {}

    /** The value read; {@link KvModel#ABSENT} if the key was never written. */
    record GetResult(long value) implements KvOutput {}

    /** Whether a compare-and-set swapped. */
    record CasResult(boolean swapped) implements KvOutput {}
}
