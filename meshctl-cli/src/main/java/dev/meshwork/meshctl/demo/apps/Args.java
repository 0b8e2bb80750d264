package dev.meshwork.meshctl.demo.apps;

import java.util.HashMap;
import java.util.Map;

/** {@code --key value} arguments of the sample apps; they are started only by the demo. */
record Args(Map<String, String> values) {

  static Args parse(String[] args) {
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --key value pairs, got: " + args[i]);
      }
      values.put(args[i].substring(2), args[++i]);
    }
    return new Args(Map.copyOf(values));
  }

  String get(String key) {
    String v = values.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + key);
    }
    return v;
  }

  String get(String key, String fallback) {
    return values.getOrDefault(key, fallback);
  }

  int intValue(String key) {
    return Integer.parseInt(get(key));
  }
}
