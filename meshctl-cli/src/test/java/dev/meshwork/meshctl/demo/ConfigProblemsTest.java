package dev.meshwork.meshctl.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigProblemsTest {

  @Test
  void reportsEachNewWarningOrErrorOnce(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("control-plane.log");
    Files.writeString(log, "08:00:00.000 INFO  [main] ControlPlane - started\n");
    ConfigProblems problems = new ConfigProblems(log);
    assertThat(problems.poll()).isEmpty();

    Files.writeString(
        log,
        "08:00:01.000 WARN  [meshwork-publisher] MeshModelBuilder - GRPCRoute demo/greeter-canary"
            + " rejected: invalid regex; the last good version stays in force\n"
            + "08:00:01.100 ERROR [meshwork-config] DirectoryConfigSource - cannot read 20-route.yaml",
        StandardOpenOption.APPEND);
    // The second line is not complete yet: only the first is reported.
    assertThat(problems.poll())
        .containsExactly(
            "GRPCRoute demo/greeter-canary rejected: invalid regex; the last good version stays in"
                + " force");
    Files.writeString(log, "; keeping its last good content\n", StandardOpenOption.APPEND);
    assertThat(problems.poll())
        .containsExactly("cannot read 20-route.yaml; keeping its last good content");
    assertThat(problems.poll()).isEmpty();
  }

  @Test
  void noLogYetIsNoProblem(@TempDir Path dir) {
    assertThat(new ConfigProblems(dir.resolve("missing.log")).poll()).isEmpty();
  }
}
