package dev.meshwork.meshctl.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LiveEditTest {

  private static TrafficStats.Interval interval(long at, long v1, long v2) {
    return new TrafficStats.Interval(
        at, v1 + v2, 0, Map.of(), Map.of("v1", v1, "v2", v2), Map.of(), Map.of(), 0, new long[0]);
  }

  @Test
  void movesTheShippedWeightsAndTimesTheNewSplit(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("config");
    DemoCommand.copySamplesIfEmpty(config);
    Path route = config.resolve("20-greeter-route.yaml");
    LiveEdit edit = new LiveEdit(route);

    edit.apply(1_000);
    String yaml = Files.readString(route);
    assertThat(yaml)
        .contains("{name: greeter-v1, port: 50051, weight: 50}")
        .contains("{name: greeter-v2, port: 50051, weight: 50}")
        .doesNotContain("weight: 90");

    edit.observe(interval(500, 90, 10)); // before the edit: ignored
    edit.observe(interval(2_000, 88, 12)); // old routing still in force
    assertThat(edit.applied()).isFalse();
    edit.observe(interval(3_000, 52, 48));
    edit.observe(interval(4_000, 47, 53));
    assertThat(edit.applied()).isTrue();
    // Timed from the edit to the first interval at the new split.
    assertThat(edit.result().seconds()).isEqualTo(0.0);
    assertThat(edit.result().applied()).isTrue();
  }

  @Test
  void reportsAnEditItCannotMake(@TempDir Path dir) throws Exception {
    Path route = dir.resolve("route.yaml");
    Files.writeString(route, "kind: GRPCRoute\n");
    LiveEdit edit = new LiveEdit(route);
    edit.apply(1);
    assertThat(edit.started()).isTrue();
    assertThat(edit.result().applied()).isFalse();
    assertThat(edit.result().error()).contains("90/10 weights were not found");
    assertThat(Files.readString(route)).isEqualTo("kind: GRPCRoute\n");
  }

  @Test
  void samplesAreNotCopiedOverTheUsersFiles(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("mine.yaml"), "x: 1\n");
    DemoCommand.copySamplesIfEmpty(dir);
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(dir.resolve("mine.yaml"));
    }
  }
}
