package dev.meshwork.bench.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReportTest {

  private static DataPlaneBench.Row row(String path, double p99, Double added) {
    return new DataPlaneBench.Row(
        "dataplane",
        path,
        null,
        1000,
        0.5,
        0.8,
        p99,
        p99 + 1,
        p99 + 2,
        added,
        0L,
        10_000L,
        path.equals("direct") ? null : 0.1,
        path.equals("direct") ? null : 30.0,
        path.equals("direct") ? null : 70.0,
        path.equals("meshwork") ? 250.0 : null,
        null,
        null,
        null);
  }

  @Test
  void tablesAndTheHaproxyRatio() {
    DataPlaneBench.Results r =
        new DataPlaneBench.Results(
            new Machine(2, "Linux 6", "25", "cpu"),
            "abc123",
            List.of(row("direct", 1.0, null), row("meshwork", 1.6, 0.6), row("haproxy", 1.4, 0.4)));
    String md = Report.markdown(r, true, "-XX:+UseSerialGC");
    assertThat(md)
        .contains("### 1,000 calls/s")
        .contains("| meshwork | 0.500 | 0.800 | 1.600 | 2.600 | 3.600 | 0.600 | 0 | 0.100 |")
        .contains("Added p99, Meshwork over HAProxy: **1.50** (goal <= 1.0).")
        .contains("Commit `abc123`")
        .contains("`-XX:+UseSerialGC`");
  }

  @Test
  void goalsSayWhatIsMetAndWhatIsNot() {
    DataPlaneBench.Results r =
        new DataPlaneBench.Results(
            new Machine(2, "Linux 6", "25", "cpu"),
            "abc123",
            List.of(row("direct", 1.0, null), row("meshwork", 1.6, 0.6), row("haproxy", 1.4, 0.4)));
    assertThat(Report.goals(r))
        .contains("| added p99 at 1,000/s, Meshwork / HAProxy | <= 1.0 | 1.500 | no |")
        .contains("| added p99 at 1,000/s, Meshwork (ms) | <= 0.5 | 0.600 | no |")
        .contains("| sidecar CPU, core-s per 1,000 calls (at 1,000/s) | <= 0.10 | 0.100 | yes |")
        .contains("| sidecar RSS idle (MiB) | <= 40 | 30.000 | yes |")
        .contains("| sidecar RSS at 1,000/s (MiB) | <= 60 | 70.000 | no |")
        .contains("| start to ready (ms) | <= 300 | 250.000 | yes |");
  }

  @Test
  void mergeReplacesOnlyTheDataPlaneSection() {
    String page =
        "# Benchmarks\n\n## Control plane\nfigures\n\n"
            + Report.BEGIN
            + "\nold numbers\n"
            + Report.END
            + "\n\n## Notes\nkept\n";
    String merged = Report.merge(page, "new numbers\n");
    assertThat(merged)
        .contains("## Control plane\nfigures")
        .contains("new numbers")
        .doesNotContain("old numbers")
        .contains("## Notes\nkept");
    assertThat(Report.merge("", "x\n")).startsWith("# Benchmarks").contains(Report.BEGIN);
    assertThat(Report.merge("# Benchmarks\n\n## Control plane\n", "x\n"))
        .startsWith("# Benchmarks\n\n## Control plane\n")
        .endsWith(Report.END + "\n");
  }

  @Test
  void percentilesAreNearestRank() {
    double[] v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assertThat(Ghz.percentile(v, 0.5)).isEqualTo(5);
    assertThat(Ghz.percentile(v, 0.999)).isEqualTo(10);
    assertThat(Ghz.percentile(new double[0], 0.5)).isNaN();
  }

  @Test
  void latencyCdfEndsAtAllCallsAndTheChartNamesEveryPath() {
    double[] sorted = new double[1000];
    for (int i = 0; i < sorted.length; i++) {
      sorted[i] = 0.1 + i * 0.01;
    }
    Svg.Series cdf = Svg.cdf(sorted, 50);
    assertThat(cdf.x()).hasSize(50).isSorted();
    assertThat(cdf.y()[49]).isEqualTo(100.0);
    assertThat(cdf.x()[49]).isEqualTo(sorted[999]);
    String svg =
        Svg.chart("t", "x", "y", java.util.Map.of("meshwork", cdf, "haproxy", cdf), true, 100);
    assertThat(svg)
        .startsWith("<svg")
        .contains(">meshwork<")
        .contains(">haproxy<")
        .endsWith("</svg>\n");
  }
}
