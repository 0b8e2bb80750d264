package dev.meshwork.controlplane.model;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import javax.annotation.concurrent.NotThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a rejected object once per generation and set of problems, not on every model build (a build
 * happens on any change anywhere in the mesh). Confined to the model thread, like the builder.
 */
@NotThreadSafe
final class RejectionLog {
  private static final Logger log = LoggerFactory.getLogger(MeshModelBuilder.class);

  // kind/namespace/name -> what was last logged for it
  private final Map<String, String> lastLogged = new HashMap<>();

  /**
   * @param generation {@code metadata.generation}, or null (folder-sourced objects carry none)
   * @param problems every problem, joined
   * @param kept true when an earlier good version stays in force
   */
  void rejected(String kind, String key, Long generation, String problems, boolean kept) {
    String signature = generation + "|" + problems;
    if (!signature.equals(lastLogged.put(kind + "/" + key, signature))) {
      log.warn(
          "{} {}{} rejected ({}); {}",
          kind,
          key,
          generation == null ? "" : " generation " + generation,
          problems,
          kept
              ? "the last good version stays in force"
              : "no earlier version to keep, " + kind + " not applied");
    }
  }

  /** The object is valid again: its next rejection is news. */
  void accepted(String kind, String key) {
    lastLogged.remove(kind + "/" + key);
  }

  /** Forgets objects of {@code kind} that are gone. */
  void retain(String kind, Set<String> presentKeys) {
    lastLogged
        .keySet()
        .removeIf(
            k -> k.startsWith(kind + "/") && !presentKeys.contains(k.substring(kind.length() + 1)));
  }
}
