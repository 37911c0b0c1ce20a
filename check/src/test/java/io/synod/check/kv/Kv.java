package io.synod.check.kv;

import io.synod.check.CheckResult;
import io.synod.check.LinearizabilityChecker;
import io.synod.check.Operation;
import java.util.ArrayList;
import java.util.List;

/** Test helper: terse construction of key-value histories. */
final class Kv {
    static final KvModel MODEL = new KvModel();
    static final long ABSENT = KvModel.ABSENT;

    private final List<Operation<KvInput, KvOutput>> ops = new ArrayList<>();

    Kv put(int client, String key, long value, long invoke, long ret) {
        ops.add(Operation.ok(client, new KvInput.Put(key, value), new KvOutput.PutOk(), invoke, ret));
        return this;
    }

    Kv get(int client, String key, long observed, long invoke, long ret) {
        ops.add(Operation.ok(client, new KvInput.Get(key), new KvOutput.GetResult(observed), invoke, ret));
        return this;
    }

    Kv cas(int client, String key, long expected, long next, boolean swapped, long invoke, long ret) {
        ops.add(Operation.ok(client, new KvInput.Cas(key, expected, next), new KvOutput.CasResult(swapped), invoke, ret));
        return this;
    }

    Kv unknownPut(int client, String key, long value, long invoke) {
        ops.add(Operation.unknown(client, new KvInput.Put(key, value), invoke));
        return this;
    }

    Kv unknownCas(int client, String key, long expected, long next, long invoke) {
        ops.add(Operation.unknown(client, new KvInput.Cas(key, expected, next), invoke));
        return this;
    }

    Kv unknownGet(int client, String key, long invoke) {
        ops.add(Operation.unknown(client, new KvInput.Get(key), invoke));
        return this;
    }

    List<Operation<KvInput, KvOutput>> ops() {
        return List.copyOf(ops);
    }

    CheckResult check() {
        return LinearizabilityChecker.check(MODEL, ops(), 10_000);
    }
}
