package dev.meshwork.e2e.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * Our own structural check of {@code manifests/grafana/} (not Grafana's dashboard-linter, which the
 * Go module proxy refuses here): every panel has a Prometheus data source and a query, queries use
 * only the dashboard's own variables, and every metric they name is documented in docs/metrics.md.
 */
class DashboardStructureTest {
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{?(\\w+)");
  private static final Pattern METRIC = Pattern.compile("\\bmeshwork_[a-z_]+");
  private static final Set<String> BUILT_IN = Set.of("__rate_interval", "__interval", "__range");

  @Test
  void everyPanelHasADataSourceAQueryDefinedVariablesAndDocumentedMetrics() throws Exception {
    String docs =
        Files.readString(Dashboards.folder().resolve("../../docs/metrics.md").normalize());
    SoftAssertions soft = new SoftAssertions();
    assertThat(Dashboards.files()).hasSizeGreaterThanOrEqualTo(4);
    Set<String> uids = new HashSet<>();
    for (Path f : Dashboards.files()) {
      JsonNode d = Dashboards.read(f);
      String name = f.getFileName().toString();
      soft.assertThat(uids.add(d.path("uid").asText())).as(name + ": unique uid").isTrue();
      soft.assertThat(d.path("title").asText()).as(name + ": title").startsWith("Meshwork / ");
      Set<String> defined = new HashSet<>();
      for (JsonNode v : d.path("templating").path("list")) {
        defined.add(v.path("name").asText());
      }
      soft.assertThat(defined).as(name + ": a data source variable").contains("datasource");
      for (JsonNode p : Dashboards.panels(d)) {
        if (p.path("type").asText().equals("row")) {
          continue;
        }
        String where = name + " / " + p.path("title").asText();
        soft.assertThat(p.path("datasource").path("type").asText())
            .as(where + ": data source")
            .isEqualTo("prometheus");
        soft.assertThat(p.path("targets").size()).as(where + ": queries").isPositive();
        for (JsonNode t : p.path("targets")) {
          String expr = t.path("expr").asText();
          soft.assertThat(expr).as(where + ": query").isNotBlank();
          Matcher v = VARIABLE.matcher(expr);
          while (v.find()) {
            if (!BUILT_IN.contains(v.group(1))) {
              soft.assertThat(defined).as(where + ": variable $" + v.group(1)).contains(v.group(1));
            }
          }
          Matcher m = METRIC.matcher(expr);
          while (m.find()) {
            String base = m.group().replaceAll("_(bucket|sum|count)$", "");
            soft.assertThat(docs)
                .as(where + ": metric " + m.group() + " in docs/metrics.md")
                .contains(base);
          }
        }
      }
    }
    soft.assertAll();
  }
}
