package dev.meshwork.injector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class WebhookMainTest {
  @Test
  void flagsReachTheConfig() {
    var o =
        WebhookMain.parse(
            new String[] {
              "--tls-cert=/c.pem",
              "--tls-key=/k.pem",
              "--port=0",
              "--sidecar-image=r/s:1",
              "--control-plane-address=cp:15012"
            });
    assertThat(o.cert()).isEqualTo(Path.of("/c.pem"));
    assertThat(o.server().port()).isZero();
    assertThat(o.injector().sidecarImage()).isEqualTo("r/s:1");
    assertThat(o.injector().controlPlaneAddress()).isEqualTo("cp:15012");
  }

  @Test
  void badFlagsSayWhatIsWrong() {
    assertThatThrownBy(() -> WebhookMain.parse(new String[] {"--tls-cert=/c"}))
        .hasMessageContaining("--tls-key");
    assertThatThrownBy(() -> WebhookMain.parse(new String[] {"--port=abc"}))
        .hasMessageContaining("--port");
    assertThatThrownBy(() -> WebhookMain.parse(new String[] {"--nope=1"}))
        .hasMessageContaining("unknown flag --nope");
  }
}
