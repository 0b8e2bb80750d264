package dev.meshwork.meshctl;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code meshctl demo}: the whole mesh on one machine (issue 10; wired once the parts exist). */
@Command(name = "demo", description = "Run the whole mesh on this machine, with no cluster.")
final class DemoCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println(
        "meshctl demo is not available in this build yet: the control plane and sidecar it runs"
            + " are still being built (see README.md, capability status).");
    return 3;
  }
}
