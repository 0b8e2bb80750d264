package dev.meshwork.meshctl.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WarmupTest {

  @Test
  void readsTheCallersWarmupLineAndNothingElse() {
    var w =
        DemoSummary.Warmup.parse(
            "{\"warmup\":{\"calls\":205,\"errors\":5,\"succeeded\":true,\"seconds\":3.21,"
                + "\"lastError\":\"Status{code=DEADLINE_EXCEEDED}\"}}");
    assertThat(w).isPresent();
    assertThat(w.get().calls()).isEqualTo(205);
    assertThat(w.get().errors()).isEqualTo(5);
    assertThat(w.get().succeeded()).isTrue();
    assertThat(w.get().lastError()).contains("DEADLINE_EXCEEDED");
    assertThat(DemoSummary.Warmup.parse("{\"calls\":3}")).isEmpty();
    assertThat(DemoSummary.Warmup.parse("caller: a log line")).isEmpty();
  }
}
