package dev.meshwork.api.logging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogFormatTest {

  @Test
  void unsetTextAndJsonAreAccepted() {
    assertThat(LogFormat.problem(null)).isEmpty();
    assertThat(LogFormat.problem("text")).isEmpty();
    assertThat(LogFormat.problem("json")).isEmpty();
  }

  @Test
  void anyOtherValueIsRefusedWithTheChoices() {
    for (String bad : new String[] {"JSON", "xml", ""}) {
      assertThat(LogFormat.problem(bad))
          .hasValueSatisfying(
              reason ->
                  assertThat(reason)
                      .contains("MESHWORK_LOG_FORMAT=" + bad + " is not a log format")
                      .contains("text")
                      .contains("json"));
    }
  }

  @Test
  void everyAcceptedFormatHasItsLogbackFragment() {
    for (String format : new String[] {"text", "json"}) {
      assertThat(LogFormat.class.getResource("/dev/meshwork/logging/log-" + format + ".xml"))
          .as(format)
          .isNotNull();
    }
  }

  @Test
  void theTextFragmentUsesTheSharedPattern() throws Exception {
    try (var in = LogFormat.class.getResourceAsStream("/dev/meshwork/logging/log-text.xml")) {
      assertThat(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
          .contains("<pattern>" + LogFormat.TEXT_PATTERN + "</pattern>");
    }
  }
}
