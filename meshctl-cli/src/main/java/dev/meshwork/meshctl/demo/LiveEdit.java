package dev.meshwork.meshctl.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The scripted live edit of a {@code --duration} run: halfway through, the canary's weights in the
 * route file move from 90/10 to 50/50, as a user would do by hand; then the demo watches the split
 * the caller actually sees until it matches, and reports how long that took.
 *
 * <p>Thread-safe: the demo thread edits, the caller's reader thread observes.
 */
final class LiveEdit {
  static final double TARGET_V2_SHARE = 0.5;
  private static final double TOLERANCE = 0.15;

  /** Consecutive intervals at the new split before it counts as observed (one could be luck). */
  private static final int CONFIRMATIONS = 2;

  private static final Pattern V1_WEIGHT =
      Pattern.compile("(name: greeter-v1, port: 50051, weight: )90");
  private static final Pattern V2_WEIGHT =
      Pattern.compile("(name: greeter-v2, port: 50051, weight: )10");

  private final Path routeFile;
  private long editedAtNanos = -1;
  private long firstMatchNanos = -1;
  private int matches;
  private String error;
  private Double seconds;

  LiveEdit(Path routeFile) {
    this.routeFile = routeFile;
  }

  synchronized boolean started() {
    return editedAtNanos >= 0 || error != null;
  }

  /** Rewrites the weights 90/10 to 50/50; failures are recorded, not thrown: the demo goes on. */
  synchronized void apply(long nowNanos) {
    try {
      String yaml = Files.readString(routeFile);
      Matcher v1 = V1_WEIGHT.matcher(yaml);
      Matcher v2 = V2_WEIGHT.matcher(yaml);
      if (!v1.find() || !v2.find()) {
        error = "the 90/10 weights were not found in " + routeFile + " (edited by hand?)";
        return;
      }
      String edited =
          V2_WEIGHT.matcher(V1_WEIGHT.matcher(yaml).replaceFirst("$150")).replaceFirst("$150");
      // Write then rename, so the control plane never reads half a file.
      Path tmp = routeFile.resolveSibling("." + routeFile.getFileName() + ".tmp");
      Files.writeString(tmp, edited);
      Files.move(tmp, routeFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      editedAtNanos = nowNanos;
    } catch (IOException e) {
      error = "could not edit " + routeFile + ": " + e.getMessage();
    }
  }

  /** Looks at one caller interval that arrived after the edit. */
  synchronized void observe(TrafficStats.Interval interval) {
    if (editedAtNanos < 0 || seconds != null || interval.atNanos() <= editedAtNanos) {
      return;
    }
    long total = interval.versions().values().stream().mapToLong(Long::longValue).sum();
    if (total == 0) {
      return;
    }
    double v2 = interval.versions().getOrDefault("v2", 0L) / (double) total;
    if (Math.abs(v2 - TARGET_V2_SHARE) <= TOLERANCE) {
      if (matches++ == 0) {
        firstMatchNanos = interval.atNanos();
      }
      if (matches >= CONFIRMATIONS) {
        seconds = (firstMatchNanos - editedAtNanos) / 1e9;
      }
    } else {
      matches = 0;
    }
  }

  synchronized boolean applied() {
    return seconds != null;
  }

  synchronized DemoSummary.LiveEdit result() {
    String what =
        "GRPCRoute greeter-canary weights v1/v2 90/10 -> 50/50 in " + routeFile.getFileName();
    if (error != null) {
      return new DemoSummary.LiveEdit(false, null, what, error);
    }
    if (editedAtNanos < 0) {
      return DemoSummary.LiveEdit.notAttempted();
    }
    if (seconds == null) {
      return new DemoSummary.LiveEdit(
          false, null, what, "the new split was not observed before the run ended");
    }
    return new DemoSummary.LiveEdit(true, Math.round(seconds * 1000) / 1000.0, what, null);
  }
}
