package dev.meshwork.bench.dataplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs ghz at a fixed rate and returns every call's latency. ghz paces calls on a schedule with
 * enough workers that a slow call does not hold back the next (open loop), and its per-call details
 * let us compute any percentile ourselves.
 */
final class Ghz {
  private final Path binary;
  private final Path proto;
  private final String cpus;

  /**
   * @param cpus the CPU list ghz is pinned to with taskset (e.g. "0"), or null for no pinning
   */
  Ghz(Path binary, Path proto, String cpus) {
    this.binary = binary;
    this.proto = proto;
    this.cpus = cpus;
  }

  /** Latencies in ms of every call, and the calls that failed. */
  record Result(double[] latenciesMs, long errors, long calls) {}

  Result run(String target, String authority, int rate, Duration duration, Path work)
      throws IOException, InterruptedException {
    Path out = work.resolve("ghz-" + System.nanoTime() + ".json");
    // A 1 KiB payload each way (the greeter echoes it).
    String payload = Base64.getEncoder().encodeToString(new byte[1024]);
    List<String> cmd = new ArrayList<>();
    if (cpus != null) {
      cmd.addAll(List.of("taskset", "-c", cpus));
    }
    cmd.addAll(
        List.of(
            binary.toString(),
            "--insecure",
            "--proto",
            proto.toString(),
            "--call",
            "meshwork.demo.v1.Greeter.SayHello",
            "-d",
            "{\"name\":\"bench\",\"payload\":\"" + payload + "\"}",
            "--rps",
            Integer.toString(rate),
            "--connections",
            "4",
            "--concurrency",
            Integer.toString(Math.max(40, rate / 25)),
            "--duration",
            duration.toSeconds() + "s",
            "--timeout",
            "5s",
            "--format",
            "json",
            "--output",
            out.toString()));
    if (authority != null) {
      cmd.addAll(List.of("--authority", authority));
    }
    cmd.add(target);
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("ghz.log").toFile())
            .start();
    if (!p.waitFor(duration.toSeconds() + 60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("ghz did not finish against " + target);
    }
    JsonNode r = new ObjectMapper().readTree(Files.readString(out));
    JsonNode details = r.path("details");
    double[] latencies = new double[details.size()];
    long errors = 0;
    long cutOff = 0;
    int n = 0;
    java.time.Instant end = java.time.Instant.EPOCH;
    for (JsonNode d : details) {
      java.time.Instant t =
          java.time.OffsetDateTime.parse(d.path("timestamp").asText()).toInstant();
      end = t.isAfter(end) ? t : end;
    }
    java.time.Instant lastSecond = end.minusSeconds(1);
    for (JsonNode d : details) {
      String error = d.path("error").asText("");
      if (!error.isEmpty() || !"OK".equals(d.path("status").asText("OK"))) {
        // ghz closes its connections when the duration ends; calls still in flight in the last
        // second then fail on ghz's side, not the path's. Those are not the path's errors.
        boolean atStop =
            java.time.OffsetDateTime.parse(d.path("timestamp").asText())
                .toInstant()
                .isAfter(lastSecond);
        if (atStop
            && (error.contains("use of closed network connection")
                || error.contains("client connection is closing"))) {
          cutOff++;
        } else {
          errors++;
        }
        continue;
      }
      latencies[n++] = d.path("latency").asLong() / 1e6;
    }
    double[] ok = Arrays.copyOf(latencies, n);
    Arrays.sort(ok);
    return new Result(ok, errors, details.size() - cutOff);
  }

  /** Nearest-rank percentile of sorted values. */
  static double percentile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
  }
}
