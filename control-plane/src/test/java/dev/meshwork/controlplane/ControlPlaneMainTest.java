package dev.meshwork.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Flags that cannot work together are refused at once with a message naming the fix. */
class ControlPlaneMainTest {

  private static int run(StringWriter err, String... args) {
    CommandLine cmd = new CommandLine(new ControlPlaneMain());
    cmd.setErr(new PrintWriter(err));
    return cmd.execute(args);
  }

  @Test
  void aLocalCaNeedsItsTokenFile(@TempDir Path dir) {
    var original = System.err;
    var captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true));
    try {
      int code =
          run(
              new StringWriter(),
              "--config-dir",
              dir.toString(),
              "--ca-dir",
              dir.resolve("ca").toString());
      assertThat(code).isEqualTo(2);
      assertThat(captured.toString()).contains("--ca-dir and --static-tokens");
    } finally {
      System.setErr(original);
    }
  }

  @Test
  void noTlsSourceIsRefused(@TempDir Path dir) {
    var original = System.err;
    var captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true));
    try {
      assertThat(run(new StringWriter(), "--config-dir", dir.toString())).isEqualTo(2);
      assertThat(captured.toString()).contains("ADS needs TLS").contains("--plaintext");
    } finally {
      System.setErr(original);
    }
  }
}
