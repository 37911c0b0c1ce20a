package io.synod.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * etcd's {@code --config-file}: a YAML file whose keys are the flag names without dashes
 * ({@code name: m1}, {@code initial-cluster: m1=http://...}, {@code quota-backend-bytes: 1048576}).
 * Only the flat form is read — one {@code key: value} per line, {@code #} comments, optionally
 * quoted values, and a YAML list of scalars for multi-valued flags (joined with commas); nested
 * sections such as {@code client-transport-security} are refused with their line number rather
 * than silently ignored. As in etcd, a configuration file replaces the command line.
 */
final class ConfigFile {
    private ConfigFile() {}

    /** The flags the file sets, in file order. */
    static Map<String, String> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --config-file " + file + ": " + e.getMessage());
        }
        var flags = new LinkedHashMap<String, String>();
        String listKey = null;
        for (int n = 1; n <= lines.size(); n++) {
            String raw = stripComment(lines.get(n - 1));
            if (raw.isBlank() || raw.strip().equals("---")) continue;
            String where = file + ":" + n + ": ";
            if (raw.startsWith(" ") || raw.startsWith("\t")) {
                String item = raw.strip();
                if (listKey != null && item.startsWith("- ")) {
                    String v = unquote(item.substring(2).strip(), where);
                    flags.merge(listKey, v, (a, b) -> a.isEmpty() ? b : a + "," + b);
                    continue;
                }
                throw new IllegalArgumentException(where + "nested settings are not supported (only flat 'flag: value' lines and lists)");
            }
            int colon = raw.indexOf(':');
            if (colon <= 0) throw new IllegalArgumentException(where + "expected 'flag: value', got '" + raw.strip() + "'");
            String key = raw.substring(0, colon).strip();
            String value = raw.substring(colon + 1).strip();
            if (flags.containsKey(key)) throw new IllegalArgumentException(where + "'" + key + "' is set twice");
            if (value.isEmpty()) {
                listKey = key; // a list follows, or the value is empty
                flags.put(key, "");
            } else {
                listKey = null;
                flags.put(key, unquote(value, where));
            }
        }
        return flags;
    }

    private static String stripComment(String line) {
        boolean single = false, dbl = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\'' && !dbl) single = !single;
            else if (c == '"' && !single) dbl = !dbl;
            else if (c == '#' && !single && !dbl && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) return line.substring(0, i);
        }
        return line;
    }

    private static String unquote(String v, String where) {
        if (v.length() >= 2 && ((v.startsWith("\"") && v.endsWith("\"")) || (v.startsWith("'") && v.endsWith("'")))) {
            return v.substring(1, v.length() - 1);
        }
        if (v.startsWith("{") || v.startsWith("[") || v.startsWith("&") || v.startsWith("*")) {
            throw new IllegalArgumentException(where + "flow collections, anchors and aliases are not supported: '" + v + "'");
        }
        return v.equals("null") || v.equals("~") ? "" : v;
    }
}
