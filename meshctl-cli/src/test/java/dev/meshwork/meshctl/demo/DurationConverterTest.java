package dev.meshwork.meshctl.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationConverterTest {
  private final DemoCommand.DurationConverter converter = new DemoCommand.DurationConverter();

  @Test
  void acceptsTheShortFormsAndIso() {
    assertThat(converter.convert("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(converter.convert("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(converter.convert("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(converter.convert("PT1H")).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void rejectsGarbageWithAHint() {
    assertThatThrownBy(() -> converter.convert("soon"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("try 30s");
  }
}
