package dev.meshwork.meshctl.demo;

import java.util.List;
import java.util.Map;

/**
 * Renders what a user should see while the demo runs: calls per second per backend instance, the
 * canary split as it happens, the mTLS identities on each hop, latency, and where the admin pages
 * are. Pure: a {@link TrafficStats.Snapshot} in, text out; {@link DemoCommand} decides whether the
 * text repaints a terminal or is printed as progress lines.
 */
final class LiveView {
  private static final String CLEAR = "\u001b[H\u001b[2J";
  private static final String BOLD = "\u001b[1m";
  private static final String DIM = "\u001b[2m";
  private static final String RESET = "\u001b[0m";

  private LiveView() {}

  /** A full screen for the interactive view. */
  static String screen(
      TrafficStats.Snapshot s,
      double elapsedSeconds,
      String configDir,
      Map<String, String> adminUrls,
      List<String> events) {
    StringBuilder b = new StringBuilder(CLEAR);
    b.append(BOLD)
        .append("Meshwork demo")
        .append(RESET)
        .append(
            String.format(
                "   %5.0fs   %6.1f calls/s   errors %d%n%n",
                elapsedSeconds, s.callsPerSecond(), s.errors()));
    b.append(BOLD)
        .append(String.format("%-22s %10s %10s  %s%n", "BACKEND INSTANCE", "CALLS/S", "TOTAL", ""))
        .append(RESET);
    double maxRate =
        s.instanceRates().values().stream().mapToDouble(Double::doubleValue).max().orElse(1);
    for (var e : s.instances().entrySet()) {
      double rate = s.instanceRates().getOrDefault(e.getKey(), 0.0);
      b.append(
          String.format(
              "%-22s %10.1f %10d  %s%n",
              e.getKey(), rate, e.getValue(), bar(rate / Math.max(1, maxRate), 30)));
    }
    b.append('\n').append(BOLD).append("CANARY SPLIT (last seconds)").append(RESET).append('\n');
    for (var e : s.recentSplit().entrySet()) {
      b.append(
          String.format(
              "  %-6s %5.1f%%  %s%n", e.getKey(), e.getValue() * 100, bar(e.getValue(), 40)));
    }
    b.append('\n')
        .append(BOLD)
        .append("HOPS (client identity -> server identity)")
        .append(RESET)
        .append('\n');
    for (var e : s.hops().entrySet()) {
      boolean mtls = !e.getKey().contains("plaintext");
      b.append(
          String.format("  %s %s  %d calls%n", mtls ? "mTLS " : "PLAIN", e.getKey(), e.getValue()));
    }
    b.append(String.format("%nLATENCY  p50 %.2f ms   p99 %.2f ms%n", s.p50Ms(), s.p99Ms()));
    b.append('\n')
        .append(DIM)
        .append("Edit routing live: ")
        .append(configDir)
        .append(RESET)
        .append('\n');
    adminUrls.forEach(
        (k, v) -> b.append(DIM).append(String.format("  %-26s %s%n", k, v)).append(RESET));
    if (!events.isEmpty()) {
      b.append('\n').append(BOLD).append("EVENTS").append(RESET).append('\n');
      events
          .subList(Math.max(0, events.size() - 5), events.size())
          .forEach(ev -> b.append("  ").append(ev).append('\n'));
    }
    b.append('\n').append(DIM).append("Ctrl-C stops everything.").append(RESET).append('\n');
    return b.toString();
  }

  /** One progress line for --no-tui runs. */
  static String line(TrafficStats.Snapshot s, double elapsedSeconds) {
    StringBuilder split = new StringBuilder();
    s.recentSplit().forEach((k, v) -> split.append(String.format(" %s=%.0f%%", k, v * 100)));
    return String.format(
        "[%5.1fs] %6.1f calls/s  backends=%d  split:%s  mTLS %d/%d hops  p50 %.2f ms  p99 %.2f ms  errors %d",
        elapsedSeconds,
        s.callsPerSecond(),
        s.instances().size(),
        split,
        s.mtlsHops(),
        s.hopCount(),
        s.p50Ms(),
        s.p99Ms(),
        s.errors());
  }

  /** The readable end-of-run summary for --no-tui without -o json. */
  static String summary(DemoSummary d) {
    StringBuilder b = new StringBuilder();
    b.append(String.format("%nMeshwork demo summary (%.0fs)%n", d.durationSeconds()));
    b.append(String.format("  calls %d, errors %d%n", d.calls(), d.errors()));
    b.append("  calls per backend instance:\n");
    d.backends().forEach((k, v) -> b.append(String.format("    %-20s %8d%n", k, v)));
    b.append("  split by version:");
    d.split().forEach((k, v) -> b.append(String.format("  %s %.1f%%", k, v * 100)));
    b.append('\n');
    b.append(
        String.format(
            "  hops %d, of which mTLS with verified identities %d%n", d.hops(), d.mtlsHops()));
    d.identities().forEach(id -> b.append("    ").append(id).append('\n'));
    b.append(
        String.format(
            "  latency p50 %.2f ms, p99 %.2f ms%n", d.latencyMs().p50(), d.latencyMs().p99()));
    b.append("  live edit: ")
        .append(
            d.liveEdit().applied()
                ? String.format("applied, new split seen after %.1fs", d.liveEdit().seconds())
                : "not applied"
                    + (d.liveEdit().error() == null ? "" : " (" + d.liveEdit().error() + ")"))
        .append('\n');
    return b.toString();
  }

  private static String bar(double fraction, int width) {
    int n = (int) Math.round(Math.max(0, Math.min(1, fraction)) * width);
    return "█".repeat(n) + "░".repeat(width - n);
  }
}
