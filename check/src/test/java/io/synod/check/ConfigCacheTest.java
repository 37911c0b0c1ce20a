package io.synod.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The memo must compare configurations exactly, not trust hashes: a false "already seen" would
 * silently prune a branch that might hold the only linearization. Hash collisions are far too
 * rare to arise in the other tests, so these construct them on purpose.
 */
class ConfigCacheTest {

    @Test
    void remembersWhatItWasGivenAcrossGrowth() {
        ConfigCache cache = new ConfigCache();
        OpSet set = new OpSet(5_000);
        for (int i = 0; i < 5_000; i++) {
            set.set(i);
            assertThat(cache.add(set, (long) i) >= 0).isTrue();
        }
        for (int i = 4_999; i >= 0; i--) {
            assertThat(cache.add(set, (long) i) >= 0).isFalse();
            set.clear(i);
        }
        assertThat(cache.add(set, 0L) >= 0).isTrue();
    }

    @Test
    void statesWithEqualHashCodesAreDistinct() {
        assertThat("Aa".hashCode()).isEqualTo("BB".hashCode());
        ConfigCache cache = new ConfigCache();
        OpSet set = new OpSet(3);
        set.set(1);
        assertThat(cache.add(set, "Aa") >= 0).isTrue();
        assertThat(cache.add(set, "BB") >= 0).isTrue();
        assertThat(cache.add(set, "Aa") >= 0).isFalse();
    }

    @Test
    void setsWithEqualZobristHashesAreDistinct() {
        // 65 vectors in GF(2)^64 are linearly dependent: find a non-empty subset whose hashes XOR
        // to zero. That subset's set hashes exactly like the empty set.
        int n = 65;
        OpSet probe = new OpSet(n);
        long[] basis = new long[64];
        List<List<Integer>> combo = new ArrayList<>();
        for (int b = 0; b < 64; b++) combo.add(List.of());
        List<Integer> dependent = null;
        for (int i = 0; i < n && dependent == null; i++) {
            probe.set(i);
            long v = probe.hash();
            probe.clear(i);
            List<Integer> members = new ArrayList<>(List.of(i));
            for (int b = 63; b >= 0; b--) {
                if ((v >>> b & 1) == 0) continue;
                if (basis[b] == 0) {
                    basis[b] = v;
                    combo.set(b, members);
                    members = null;
                    break;
                }
                v ^= basis[b];
                members = symmetricDifference(members, combo.get(b));
            }
            if (members != null) dependent = members;
        }
        assertThat(dependent).isNotNull().isNotEmpty();

        OpSet colliding = new OpSet(n);
        for (int i : dependent) colliding.set(i);
        assertThat(colliding.hash()).isEqualTo(new OpSet(n).hash());

        ConfigCache cache = new ConfigCache();
        assertThat(cache.add(new OpSet(n), 7L) >= 0).isTrue();
        assertThat(cache.add(colliding, 7L) >= 0).isTrue();
        assertThat(cache.add(colliding, 7L) >= 0).isFalse();
    }

    @Test
    void extraIndeterminateOpsAreDominatedOnlyOnceTheSmallerConfigurationIsExplored() {
        boolean[] optional = {false, true, true};
        OpSet set = new OpSet(3, optional);
        set.set(0);
        ConfigCache cache = new ConfigCache();
        int smaller = cache.add(set, 5L);
        assertThat(smaller).isNotNegative();

        set.set(1);
        // Still being explored (on the search path): it must not be used to prune its descendants.
        int larger = cache.add(set, 5L);
        assertThat(larger).isNotNegative();
        cache.leftPath(larger);
        cache.leftPath(smaller);

        set.set(2);
        assertThat(cache.add(set, 5L)).as("superset of explored indeterminate ops, same state").isNegative();
        assertThat(cache.add(set, 6L)).as("different state").isNotNegative();
        set.clear(0);
        set.clear(1);
        assertThat(cache.add(set, 5L)).as("required member differs").isNotNegative();
    }

    @Test
    void requiredMembersAreNeverTreatedAsOptional() {
        OpSet set = new OpSet(2);
        ConfigCache cache = new ConfigCache();
        cache.leftPath(cache.add(set, 1L));
        set.set(1);
        assertThat(cache.add(set, 1L)).isNotNegative();
    }

    private static List<Integer> symmetricDifference(List<Integer> a, List<Integer> b) {
        List<Integer> out = new ArrayList<>(a);
        for (Integer x : b) {
            if (!out.remove(x)) out.add(x);
        }
        return out;
    }
}
