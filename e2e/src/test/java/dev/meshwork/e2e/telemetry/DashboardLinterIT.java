package dev.meshwork.e2e.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshwork.e2e.kube.CachedTool;
import dev.meshwork.e2e.kube.Prerequisites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Grafana's own dashboard linter ({@code dashboard-linter lint --strict}, built by {@code
 * .ci/install-dashboard-linter.sh}) passes on every dashboard of {@code manifests/grafana/}, and
 * fails, naming the rule, on one of them broken the way users break dashboards. {@code --strict}
 * makes any warning or error exit 1; without it the linter exits 0 whatever it finds. A {@code
 * .lint} file next to a dashboard would turn rules off for it (its "exclusions"), so there must be
 * none. The two parts that build compiles out (the v2-schema adapter and Loki's LogQL parser, both
 * AGPL-3.0) fail what reaches them instead of passing it unchecked.
 */
@Tag("external")
class DashboardLinterIT {
  private static final Logger LOG = LoggerFactory.getLogger(DashboardLinterIT.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RATE_INTERVAL = "[$__rate_interval]";

  @TempDir Path work;

  /** The linter binary: $MESHWORK_DASHBOARD_LINTER, else the newest build in the cache. */
  static Optional<Path> linter() throws IOException {
    return CachedTool.find("MESHWORK_DASHBOARD_LINTER", "dashboard-linter", "dashboard-linter");
  }

  @Test
  void everyDashboardPassesGrafanasLinterStrict() throws Exception {
    Path binary = requireLinter();
    assertThat(Dashboards.folder().resolve(".lint"))
        .as("a .lint file in manifests/grafana would exclude rules; fix the dashboard instead")
        .doesNotExist();
    List<Path> files = Dashboards.files();
    assertThat(files).hasSizeGreaterThanOrEqualTo(4);
    SoftAssertions soft = new SoftAssertions();
    for (Path f : files) {
      Lint lint = lint(binary, f);
      soft.assertThat(lint.exit())
          .as("dashboard-linter lint --strict %s%n%s", f.getFileName(), lint.output())
          .isZero();
    }
    soft.assertAll();
  }

  @Test
  void aRateOverAFixedWindowFailsTheLinterNamingTheRule() throws Exception {
    Path binary = requireLinter();
    // The first rate(...[$__rate_interval]) of a real dashboard becomes rate(...[5m]).
    Path original = null;
    ObjectNode target = null;
    String panel = null;
    JsonNode dashboard = null;
    for (Path f : Dashboards.files()) {
      JsonNode d = Dashboards.read(f);
      for (JsonNode p : Dashboards.panels(d)) {
        for (JsonNode t : p.path("targets")) {
          String expr = t.path("expr").asText();
          if (target == null && expr.contains("rate(") && expr.contains(RATE_INTERVAL)) {
            original = f;
            dashboard = d;
            target = (ObjectNode) t;
            panel = p.path("title").asText();
          }
        }
      }
      if (target != null) {
        break;
      }
    }
    assertThat(target).as("a dashboard query with rate(...%s)", RATE_INTERVAL).isNotNull();
    String name = original.getFileName().toString();

    // The same dashboard, written by the same writer into the same folder, unbroken: passes.
    Path unbroken = work.resolve("unbroken-" + name);
    JSON.writerWithDefaultPrettyPrinter().writeValue(unbroken.toFile(), dashboard);
    assertThat(lint(binary, unbroken).exit()).as("the unbroken copy of " + name).isZero();

    String expr = target.path("expr").asText();
    target.put("expr", expr.replaceFirst("\\Q" + RATE_INTERVAL + "\\E", "[5m]"));
    Path broken = work.resolve(name);
    JSON.writerWithDefaultPrettyPrinter().writeValue(broken.toFile(), dashboard);
    Lint lint = lint(binary, broken);
    LOG.info(
        "negative control, {} panel '{}' with [5m]: exit {}\n{}",
        name,
        panel,
        lint.exit(),
        lint.errors());

    assertThat(lint.exit())
        .as("exit of lint --strict on the broken copy%n%s", lint.output())
        .isOne();
    assertThat(lint.output())
        .as("the rule's description")
        .contains("Checks that each target uses $__rate_interval.");
    assertThat(lint.errors())
        .as("exactly one finding, naming the panel and the fix")
        .singleElement(InstanceOfAssertFactories.STRING)
        .contains("panel '" + panel + "'", "[5m]", "should use $__rate_interval");
  }

  @Test
  void whatThisBuildCompiledOutFailsInsteadOfPassing() throws Exception {
    Path binary = requireLinter();
    // A Loki target: both LogQL rules must report it (their parser is compiled out).
    Path source = Dashboards.files().getFirst();
    JsonNode dashboard = Dashboards.read(source);
    ObjectNode target =
        Dashboards.panels(dashboard).stream()
            .map(p -> p.path("targets").path(0))
            .filter(JsonNode::isObject)
            .map(ObjectNode.class::cast)
            .findFirst()
            .orElseThrow();
    target.putObject("datasource").put("type", "loki").put("uid", "${datasource}");
    target.put("expr", "sum(count_over_time({job=~\"$job\"} |= \"error\" [$__auto]))");
    Path loki = work.resolve("loki-" + source.getFileName());
    JSON.writerWithDefaultPrettyPrinter().writeValue(loki.toFile(), dashboard);
    Lint lokiLint = lint(binary, loki);
    assertThat(lokiLint.exit()).as("exit on a Loki target%n%s", lokiLint.output()).isOne();
    assertThat(lokiLint.errors())
        .as("target-logql-rule and target-logql-auto-rule")
        .filteredOn(e -> e.contains("LogQL is not supported by this build"))
        .hasSize(2);

    // A v2-schema dashboard: refused by the stubbed adapter, never linted as empty.
    Path v2 = work.resolve("v2.json");
    Files.writeString(
        v2,
        """
        {"apiVersion": "dashboard.grafana.app/v2beta1", "kind": "Dashboard",
         "metadata": {"name": "x"}, "spec": {"title": "x"}}
        """);
    Lint v2Lint = lint(binary, v2);
    assertThat(v2Lint.exit()).as("exit on a v2 dashboard%n%s", v2Lint.output()).isNotZero();
    assertThat(v2Lint.output()).contains("v2 dashboard schema", "not supported by this build");
  }

  private static Path requireLinter() throws IOException {
    Optional<Path> binary = linter();
    Prerequisites.require(
        binary.isPresent(),
        "Grafana's dashboard-linter built by bash .ci/install-dashboard-linter.sh");
    return binary.get();
  }

  /** What one {@code lint --strict} run printed (ANSI colours removed) and its exit status. */
  record Lint(int exit, String output) {
    /** The findings: lines the linter marks as an error or a warning. */
    List<String> errors() {
      List<String> out = new ArrayList<>();
      for (String line : output.lines().toList()) {
        if (line.startsWith("[\u274C]") || line.startsWith("[\u26A0\uFE0F]")) {
          out.add(line);
        }
      }
      return out;
    }
  }

  private static Lint lint(Path binary, Path dashboard) throws Exception {
    Path log = Files.createTempFile("dashboard-linter", ".out");
    try {
      Process p =
          new ProcessBuilder(binary.toString(), "lint", "--strict", dashboard.toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      p.getOutputStream().close();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "dashboard-linter did not finish within 60 s on " + dashboard);
      }
      String out = Files.readString(log);
      return new Lint(p.exitValue(), out.replaceAll("\u001B\\[[0-9;]*m", ""));
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
