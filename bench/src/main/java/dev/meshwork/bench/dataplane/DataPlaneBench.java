package dev.meshwork.bench.dataplane;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.meshwork.meshctl.demo.apps.GreeterApp;
import io.grpc.Server;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bench/run}: every path at every rate in one run, results to {@code
 * bench/results/latest.json} (the contract of issue 11) and {@code docs/benchmarks.md}.
 *
 * <p>Usage: {@code DataPlaneBench --home DIR [--quick] [--ghz PATH]}
 */
public final class DataPlaneBench {
  private DataPlaneBench() {}

  /** One row of {@code results}; null fields are left out of the JSON. */
  @com.fasterxml.jackson.annotation.JsonInclude(
      com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public record Row(
      String scenario,
      String path,
      Integer rate,
      Double p50Ms,
      Double p90Ms,
      Double p99Ms,
      Double p999Ms,
      Double maxMs,
      Double addedP99Ms,
      Long errors,
      Long calls,
      Double cpuCoreSecondsPer1k,
      Double rssIdleMiB,
      Double rssLoadMiB,
      Double readyMs,
      String note) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--quick")) {
        a.put("quick", "true");
      } else {
        a.put(args[i].substring(2), args[++i]);
      }
    }
    Path home = Path.of(a.getOrDefault("home", ".")).toAbsolutePath().normalize();
    boolean quick = a.containsKey("quick");
    Path ghzBin = Path.of(a.getOrDefault("ghz", System.getProperty("user.home") + "/go/bin/ghz"));
    List<Integer> rates = quick ? List.of(500, 1000) : List.of(500, 1000, 5000);
    Duration each = quick ? Duration.ofSeconds(8) : Duration.ofSeconds(20);
    Path work = Files.createTempDirectory("meshwork-bench-");
    Path certs = Certs.generate(work.resolve("certs"));
    Ghz ghz =
        new Ghz(
            ghzBin, home.resolve("meshctl-cli/src/main/protobuf/meshwork/demo/v1/greeter.proto"));

    int appPort = freePort();
    Server greeter = GreeterApp.start("127.0.0.1", appPort, "greeter-0", "v1");
    String app = "127.0.0.1:" + appPort;
    List<Row> rows = new ArrayList<>();
    Map<Integer, Double> directP99 = new LinkedHashMap<>();
    int plotRate = 1000;
    Map<String, Svg.Series> latencyPlot = new LinkedHashMap<>();
    Map<String, Svg.Series> rssPlot = new LinkedHashMap<>();
    try {
      List<ProxyPair> paths =
          List.of(
              new ProxyPair.Direct(),
              new MeshworkPair(),
              new ProxyPair.HaproxyPair(home.resolve("bench/peers")),
              new ProxyPair.NginxPair(home.resolve("bench/peers")));
      for (ProxyPair path : paths) {
        System.out.printf("== %s%n", path.name);
        try (path) {
          ProxyPair.Entry entry = path.start(app, work, certs);
          // Warm up JITs and connection pools before anything is measured.
          ghz.run(entry.target(), entry.authority(), 500, Duration.ofSeconds(quick ? 3 : 8), work);
          Thread.sleep(500);
          double rssIdle = maxRss(path.proxyTrees());
          long pathStart = System.nanoTime();
          List<double[]> rssSeries = java.util.Collections.synchronizedList(new ArrayList<>());
          for (int rate : rates) {
            double cpuBefore = cpu(path.proxyTrees());
            AtomicReference<Double> peakRss = new AtomicReference<>(0.0);
            ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleAtFixedRate(
                () -> {
                  double rss = maxRssQuiet(path.proxyTrees());
                  peakRss.accumulateAndGet(rss, Math::max);
                  rssSeries.add(new double[] {(System.nanoTime() - pathStart) / 1e9, rss});
                },
                0,
                200,
                TimeUnit.MILLISECONDS);
            Ghz.Result r = ghz.run(entry.target(), entry.authority(), rate, each, work);
            sampler.shutdownNow();
            double cpuUsed = cpu(path.proxyTrees()) - cpuBefore;
            double p99 = Ghz.percentile(r.latenciesMs(), 0.99);
            if (path.name.equals("direct")) {
              directP99.put(rate, p99);
            }
            if (rate == plotRate && r.latenciesMs().length > 0) {
              latencyPlot.put(path.name, Svg.cdf(r.latenciesMs(), 400));
            }
            boolean proxied = !path.proxyTrees().isEmpty();
            Row row =
                new Row(
                    "dataplane",
                    path.name,
                    rate,
                    round(Ghz.percentile(r.latenciesMs(), 0.50)),
                    round(Ghz.percentile(r.latenciesMs(), 0.90)),
                    round(p99),
                    round(Ghz.percentile(r.latenciesMs(), 0.999)),
                    round(
                        r.latenciesMs().length == 0
                            ? Double.NaN
                            : r.latenciesMs()[r.latenciesMs().length - 1]),
                    directP99.containsKey(rate) ? round(p99 - directP99.get(rate)) : null,
                    r.errors(),
                    r.calls(),
                    proxied && r.calls() > 0
                        ? round(cpuUsed / path.proxyTrees().size() / (r.calls() / 1000.0))
                        : null,
                    proxied ? round(rssIdle) : null,
                    proxied ? round(peakRss.get()) : null,
                    path.readyMs() == null ? null : round(path.readyMs()),
                    null);
            rows.add(row);
            System.out.printf(
                Locale.ROOT,
                "  %5d/s  p50 %.3f  p99 %.3f  p99.9 %.3f ms  errors %d  cpu/1k %s  rss %s MiB%n",
                rate,
                row.p50Ms(),
                row.p99Ms(),
                row.p999Ms(),
                row.errors(),
                row.cpuCoreSecondsPer1k(),
                row.rssLoadMiB());
          }
          if (!path.proxyTrees().isEmpty()) {
            rssPlot.put(path.name, Svg.of(new ArrayList<>(rssSeries)));
          }
        } catch (Exception e) {
          System.out.printf("  %s failed: %s (logs in %s)%n", path.name, e.getMessage(), work);
          rows.add(
              new Row(
                  "dataplane",
                  path.name,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  "failed: " + e.getMessage()));
        }
      }
    } finally {
      greeter.shutdownNow();
    }
    Results results = new Results(Machine.current(home), Machine.commit(home), rows);
    Path json = home.resolve("bench/results/" + (quick ? "quick.json" : "latest.json"));
    Files.createDirectories(json.getParent());
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(json.toFile(), results);
    Path plots = home.resolve("docs/bench");
    Files.createDirectories(plots);
    Files.writeString(
        plots.resolve("latency-cdf-1000.svg"),
        Svg.chart(
            "Latency CDF at 1,000 calls/s",
            "latency (ms, log scale)",
            "% of calls",
            latencyPlot,
            true,
            100));
    Files.writeString(
        plots.resolve("rss-over-time.svg"),
        Svg.chart(
            "Largest proxy RSS during the run",
            "seconds since the path started",
            "MiB",
            rssPlot,
            false,
            0));
    Path doc = home.resolve("docs/benchmarks.md");
    String existing = Files.exists(doc) ? Files.readString(doc) : "";
    Files.writeString(doc, Report.merge(existing, Report.markdown(results, quick)));
    System.out.println("results: " + json + ", report: docs/benchmarks.md");
  }

  /** The JSON document: {@code {"machine": {...}, "commit": "...", "results": [...]}}. */
  public record Results(Machine machine, String commit, List<Row> results) {}

  /** CPU seconds used so far by every process of every proxy. */
  private static double cpu(List<List<Long>> trees) throws IOException {
    double sum = 0;
    for (List<Long> tree : trees) {
      for (long pid : tree) {
        sum += ProcStats.cpuSeconds(pid);
      }
    }
    return sum;
  }

  /** The largest proxy's resident memory, its process tree summed. */
  private static double maxRss(List<List<Long>> trees) throws IOException {
    double max = 0;
    for (List<Long> tree : trees) {
      double sum = 0;
      for (long pid : tree) {
        sum += ProcStats.rssMiB(pid);
      }
      max = Math.max(max, sum);
    }
    return max;
  }

  private static double maxRssQuiet(List<List<Long>> trees) {
    try {
      return maxRss(trees);
    } catch (IOException e) {
      return 0;
    }
  }

  static Double round(double v) {
    return Double.isNaN(v) ? null : Math.round(v * 1000.0) / 1000.0;
  }

  private static int freePort() throws IOException {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
