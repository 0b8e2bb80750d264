package dev.meshwork.sidecar.capture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies a plan by running the {@code iptables} binary, one command at a time. */
public final class Iptables {
  private static final Logger log = LoggerFactory.getLogger(Iptables.class);

  /** Result of one process run. */
  record Result(int exitCode, String output) {}

  private final String binary;

  /**
   * @param binary {@code iptables}, or a path such as {@code /usr/sbin/iptables-legacy}
   */
  public Iptables(String binary) {
    this.binary = binary;
  }

  public String binary() {
    return binary;
  }

  /** Applies every command in order; stops at the first failure. */
  public void apply(List<IptablesCommand> plan) throws CaptureException {
    for (IptablesCommand c : plan) {
      switch (c.kind()) {
        case CREATE_CHAIN -> {
          // -N fails when the chain exists (a re-run): only -L tells us whether that was why.
          if (run(c.args()).exitCode() != 0) {
            List<String> list = new ArrayList<>(c.args());
            list.set(list.indexOf("-N"), "-L");
            require(list, run(list));
          }
        }
        case FLUSH_CHAIN, APPEND -> require(c.args(), run(c.args()));
        case APPEND_UNLESS_PRESENT -> {
          List<String> check = new ArrayList<>(c.args());
          check.set(check.indexOf("-A"), "-C");
          if (run(check).exitCode() != 0) {
            require(c.args(), run(c.args()));
          }
        }
      }
      log.debug("capture.applied {}", c.toShell(binary));
    }
  }

  /** {@code iptables-save -t nat} output, to log what is installed. */
  public String save() throws CaptureException {
    String saveBinary = binary + "-save";
    return exec(List.of(saveBinary, "-t", CaptureRules.TABLE)).output();
  }

  private void require(List<String> args, Result r) throws CaptureException {
    if (r.exitCode() != 0) {
      throw new CaptureException(
          binary
              + " "
              + String.join(" ", args)
              + " failed (exit "
              + r.exitCode()
              + "): "
              + r.output().strip());
    }
  }

  private Result run(List<String> args) throws CaptureException {
    List<String> argv = new ArrayList<>();
    argv.add(binary);
    // Wait for the xtables lock instead of failing when another writer holds it.
    argv.add("-w");
    argv.add("5");
    argv.addAll(args);
    return exec(argv);
  }

  private static Result exec(List<String> argv) throws CaptureException {
    Process p;
    try {
      p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new CaptureException(
          "cannot run "
              + argv.getFirst()
              + " (is iptables installed in the image?): "
              + e.getMessage(),
          e);
    }
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new CaptureException(String.join(" ", argv) + " did not finish in 30 s");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      throw new CaptureException("reading output of " + String.join(" ", argv) + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new CaptureException("interrupted while running " + String.join(" ", argv), e);
    }
  }
}
