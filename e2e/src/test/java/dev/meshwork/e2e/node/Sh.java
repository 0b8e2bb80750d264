package dev.meshwork.e2e.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short host commands ({@code ip}, {@code iptables}) and fails with their output. */
final class Sh {
  private Sh() {}

  /** Runs {@code cmd}; returns stdout+stderr, or throws with them on a non-zero exit. */
  static String run(String... cmd) {
    return run(List.of(cmd));
  }

  static String run(List<String> cmd) {
    Result r = tryRun(cmd);
    if (r.exit() != 0) {
      throw new IllegalStateException(
          String.join(" ", cmd) + " exited " + r.exit() + ": " + r.out());
    }
    return r.out();
  }

  record Result(int exit, String out) {}

  static Result tryRun(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, out + " (timed out)");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }
}
