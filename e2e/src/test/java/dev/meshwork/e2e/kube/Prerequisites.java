package dev.meshwork.e2e.kube;

import org.junit.jupiter.api.Assumptions;
import org.slf4j.LoggerFactory;

/**
 * One policy for a missing prerequisite (binary, root, Docker): with {@code REQUIRE_E2E=1} (set by
 * {@code .ci/run}) the test FAILS with the reason and the fix; without it the test is skipped with
 * one clear line. Thread-safe (stateless).
 */
public final class Prerequisites {
  private Prerequisites() {}

  /** True when a missing prerequisite must fail the run (CI), false on a developer machine. */
  public static boolean required() {
    return "1".equals(System.getenv("REQUIRE_E2E")) || Boolean.getBoolean("meshwork.requireE2e");
  }

  /**
   * Returns when {@code present}; otherwise fails (REQUIRE_E2E=1) or aborts the test.
   *
   * @param what a sentence naming what is missing and how to get it
   */
  public static void require(boolean present, String what) {
    if (present) {
      return;
    }
    if (required()) {
      throw new IllegalStateException("REQUIRE_E2E=1 and a prerequisite is missing: " + what);
    }
    String line = "skipped (set REQUIRE_E2E=1 to fail instead): " + what;
    LoggerFactory.getLogger(Prerequisites.class).warn(line);
    Assumptions.abort(line);
  }

  /** True when this JVM runs as root, which network namespaces and iptables need. */
  public static boolean isRoot() {
    try {
      Process id = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
      String out = new String(id.getInputStream().readAllBytes()).trim();
      return id.waitFor() == 0 && out.equals("0");
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
