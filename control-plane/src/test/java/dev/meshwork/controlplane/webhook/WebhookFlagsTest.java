package dev.meshwork.controlplane.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.controlplane.ControlPlaneMain;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The control plane's webhook flags: asking for the injector without a CA is refused at once. */
class WebhookFlagsTest {

  @Test
  void theInjectorWithoutACaIsRefusedWithTheFix(@TempDir Path dir) {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true));
    try {
      int code =
          new CommandLine(new ControlPlaneMain())
              .execute("--config-dir", dir.toString(), "--plaintext", "--webhook");
      assertThat(code).isEqualTo(2);
      assertThat(captured.toString()).contains("sidecar injector").contains("--no-webhook");
    } finally {
      System.setErr(original);
    }
  }

  @Test
  void helpListsTheWebhookFlags() {
    String usage = new CommandLine(new ControlPlaneMain()).getUsageMessage();
    assertThat(usage).contains("--[no-]webhook").contains("--webhook-port").contains("15017");
  }
}
