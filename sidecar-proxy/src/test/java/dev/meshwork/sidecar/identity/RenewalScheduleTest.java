package dev.meshwork.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RenewalScheduleTest {
  private final Instant start = Instant.parse("2026-01-01T00:00:00Z");
  private final Instant end = start.plus(Duration.ofHours(24));

  @Test
  void renewsBetweenFortyAndSixtyPercentOfTheLifetimeAndSpreadsTheFleet() {
    Random random = new Random(42);
    Set<Instant> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      Instant at = RenewalSchedule.DEFAULT.renewAt(start, end, random);
      assertThat(at)
          .isBetween(start.plus(Duration.ofMinutes(576)), start.plus(Duration.ofMinutes(864)));
      seen.add(at);
    }
    assertThat(seen.size()).as("jitter spreads renewals").isGreaterThan(900);
  }

  @Test
  void refusesSchedulesOutsideTheLifetime() {
    assertThatThrownBy(() -> new RenewalSchedule(0.95, 0.1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void backoffDoublesUpToItsCapWithJitter() {
    Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2));
    Random random = new Random(7);
    assertThat(backoff.delay(0, random)).isBetween(Duration.ofMillis(80), Duration.ofMillis(100));
    assertThat(backoff.delay(3, random)).isBetween(Duration.ofMillis(640), Duration.ofMillis(800));
    assertThat(backoff.delay(10, random)).isBetween(Duration.ofMillis(1600), Duration.ofSeconds(2));
    assertThat(backoff.delay(1000, random))
        .isBetween(Duration.ofMillis(1600), Duration.ofSeconds(2));
  }
}
