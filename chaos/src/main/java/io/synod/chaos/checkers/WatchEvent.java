package io.synod.chaos.checkers;

/** One event a watcher received: the revision it happened at, the key, PUT or DELETE, and the value written. */
public record WatchEvent(long revision, String key, String type, String value) {
    @Override
    public String toString() {
        return "@" + revision + " " + type + " " + key + (value.isEmpty() ? "" : "=" + value);
    }
}
