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
import java.util.Arrays;
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
      String variant,
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
      Integer maxRateP99Under10ms,
      Double maxRatePerProxyCore,
      String note) {

    static Row failed(String scenario, String path, String variant, String note) {
      return new Row(
          scenario, path, variant, null, null, null, null, null, null, null, null, null, null, null,
          null, null, null, null, note);
    }
  }

  /** What one run measures; quick keeps the same shape with fewer, shorter steps. */
  record Plan(
      List<Integer> rates,
      Duration each,
      Duration warmUp,
      List<Integer> searchRates,
      Duration searchEach,
      List<String> only) {}

  public static void main(String[] args) throws Exception {
    long started = System.nanoTime();
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
    if (a.containsKey("render")) {
      // Re-renders docs/benchmarks.md from a results file (e.g. after a report change), no run.
      Results results =
          new ObjectMapper()
              .configure(
                  com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES,
                  false)
              .readValue(Path.of(a.get("render")).toFile(), Results.class);
      Path doc = home.resolve("docs/benchmarks.md");
      Files.writeString(
          doc,
          Report.merge(
              Files.readString(doc),
              Report.markdown(results, false, a.getOrDefault("flags", "(see the results file)"))));
      System.out.println("rendered docs/benchmarks.md from " + a.get("render"));
      return;
    }
    Path ghzBin = Path.of(a.getOrDefault("ghz", System.getProperty("user.home") + "/go/bin/ghz"));
    Plan plan =
        new Plan(
            a.containsKey("rates")
                ? Arrays.stream(a.get("rates").split(",")).map(Integer::valueOf).toList()
                : quick ? List.of(500, 1000) : List.of(500, 1000, 5000),
            Duration.ofSeconds(Long.parseLong(a.getOrDefault("seconds", quick ? "6" : "20"))),
            Duration.ofSeconds(quick ? 8 : 30),
            quick
                ? List.of(500, 1000, 2000)
                : List.of(250, 500, 1000, 1500, 2000, 3000, 4000, 6000),
            Duration.ofSeconds(quick ? 3 : 6),
            a.containsKey("paths") ? List.of(a.get("paths").split(",")) : List.of());
    boolean partial = !plan.only().isEmpty() || a.containsKey("rates");
    Path work = Files.createTempDirectory("meshwork-bench-");
    Path certs = Certs.generate(work.resolve("certs"));
    // Pinning (bench/run passes --ghz-cpus 0 and runs this JVM, hence the greeter and every
    // proxy, on CPU 1): the load generator never competes with the path it measures.
    Ghz ghz =
        new Ghz(
            ghzBin,
            home.resolve("meshctl-cli/src/main/protobuf/meshwork/demo/v1/greeter.proto"),
            a.get("ghz-cpus"));
    Path sidecarJar =
        Path.of(
            a.getOrDefault(
                "sidecar-jar", home.resolve("sidecar-proxy/target/sidecar-proxy.jar").toString()));
    List<String> flags = new ArrayList<>(MeshworkPair.shippedJvmFlags());
    String aotNote = "no AOT cache";
    if (a.containsKey("aot")) {
      Path aot = Path.of(a.get("aot"));
      aotNote = AotTraining.train(aot, sidecarJar, flags, ghz, work, certs);
      if (Files.isRegularFile(aot)) {
        flags.add("-XX:AOTCache=" + aot);
      }
    }
    System.out.println("sidecar JVM: " + String.join(" ", flags) + " (" + aotNote + ")");

    int appPort = freePort();
    Server greeter = GreeterApp.start("127.0.0.1", appPort, "greeter-0", "v1");
    String app = "127.0.0.1:" + appPort;
    List<Row> rows = new ArrayList<>();
    Map<Integer, Double> directP99 = new LinkedHashMap<>();
    Map<String, Svg.Series> latencyPlot = new LinkedHashMap<>();
    Map<String, Svg.Series> rssPlot = new LinkedHashMap<>();
    try {
      List<ProxyPair> paths =
          List.of(
              new ProxyPair.Direct(),
              new MeshworkPair("meshwork", sidecarJar, flags),
              new ProxyPair.HaproxyPair(home.resolve("bench/peers")),
              new ProxyPair.NginxPair(home.resolve("bench/peers")),
              new MeshworkPair(
                  TELEMETRY_OFF, sidecarJar, flags, List.of("--telemetry", "false"), List.of()));
      for (ProxyPair path : paths) {
        if (!plan.only().isEmpty() && !plan.only().contains(path.name)) {
          continue;
        }
        if (quick && plan.only().isEmpty() && path.name.equals(TELEMETRY_OFF)) {
          continue; // the full run measures telemetry's cost; quick stays under 5 minutes
        }
        System.out.printf("== %s%n", path.name);
        measurePath(path, plan, ghz, app, work, certs, directP99, rows, latencyPlot, rssPlot);
      }
    } finally {
      greeter.shutdownNow();
    }
    if ((!partial && !a.containsKey("no-rollout")) || plan.only().contains("rollout")) {
      rows.addAll(RolloutScenario.run(home, sidecarJar, flags, work, quick));
    }
    Results results = new Results(Machine.current(home), Machine.commit(home), rows);
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    if (partial) {
      // A partial run (some paths or rates) is an experiment: it never replaces the published
      // results.
      Path json = work.resolve("partial.json");
      mapper.writeValue(json.toFile(), results);
      System.out.println("partial run, results: " + json);
      return;
    }
    Path json = home.resolve("bench/results/" + (quick ? "quick.json" : "latest.json"));
    Files.createDirectories(json.getParent());
    mapper.writeValue(json.toFile(), results);
    if (!quick) {
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
      Files.writeString(
          doc, Report.merge(existing, Report.markdown(results, quick, String.join(" ", flags))));
    }
    System.out.printf(
        Locale.ROOT,
        "results: %s%s; data plane and rollout took %.0f s%n",
        json,
        quick ? "" : ", report: docs/benchmarks.md",
        (System.nanoTime() - started) / 1e9);
  }

  /** The Meshwork pair with the sidecars' telemetry turned off (path meshwork, this variant). */
  static final String TELEMETRY_OFF = "meshwork-telemetry-off";

  private static void measurePath(
      ProxyPair path,
      Plan plan,
      Ghz ghz,
      String app,
      Path work,
      Path certs,
      Map<Integer, Double> directP99,
      List<Row> rows,
      Map<String, Svg.Series> latencyPlot,
      Map<String, Svg.Series> rssPlot) {
    boolean variant = path.name.equals(TELEMETRY_OFF);
    String pathName = variant ? "meshwork" : path.name;
    String variantName = variant ? "telemetry-off" : null;
    List<Integer> rates = variant ? List.of(1000) : plan.rates();
    try (path) {
      ProxyPair.Entry entry = path.start(app, work, certs);
      // Warm up JITs and connection pools before anything is measured: the same for every path,
      // long enough for the sidecar's C2 to reach the steady state a long-lived sidecar runs in
      // (its first minute is costlier; see docs/benchmarks.md, "The sidecar's JVM flags").
      ghz.run(entry.target(), entry.authority(), 1000, plan.warmUp(), work);
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
        Ghz.Result r = ghz.run(entry.target(), entry.authority(), rate, plan.each(), work);
        sampler.shutdownNow();
        double cpuUsed = cpu(path.proxyTrees()) - cpuBefore;
        double p99 = Ghz.percentile(r.latenciesMs(), 0.99);
        if (path.name.equals("direct")) {
          directP99.put(rate, p99);
        }
        if (rate == 1000 && !variant && r.latenciesMs().length > 0) {
          latencyPlot.put(path.name, Svg.cdf(r.latenciesMs(), 400));
        }
        boolean proxied = !path.proxyTrees().isEmpty();
        Row row =
            new Row(
                "dataplane",
                pathName,
                variantName,
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
                null,
                null,
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
      if (!variant && !path.proxyTrees().isEmpty()) {
        rssPlot.put(path.name, Svg.of(new ArrayList<>(rssSeries)));
      }
      if (!variant) {
        rows.add(maxRate(path, entry, plan, ghz, work));
      }
    } catch (Exception e) {
      System.out.printf("  %s failed: %s (logs in %s)%n", path.name, e.getMessage(), work);
      rows.add(Row.failed("dataplane", pathName, variantName, "failed: " + e.getMessage()));
    }
  }

  /**
   * The highest of {@link Plan#searchRates()} the path sustains with p99 under 10 ms, no errors and
   * at least 95% of the asked rate delivered; per proxy core: that rate over the CPU the path's
   * proxies used at it (core-seconds per second, both proxies together).
   */
  private static Row maxRate(ProxyPair path, ProxyPair.Entry entry, Plan plan, Ghz ghz, Path work)
      throws Exception {
    Integer best = null;
    Double perCore = null;
    for (int rate : plan.searchRates()) {
      double cpuBefore = cpu(path.proxyTrees());
      Ghz.Result r = ghz.run(entry.target(), entry.authority(), rate, plan.searchEach(), work);
      double cores = (cpu(path.proxyTrees()) - cpuBefore) / plan.searchEach().toSeconds();
      double p99 = Ghz.percentile(r.latenciesMs(), 0.99);
      double delivered = r.latenciesMs().length / (double) plan.searchEach().toSeconds();
      boolean ok = r.errors() == 0 && p99 < 10.0 && delivered >= 0.95 * rate;
      System.out.printf(
          Locale.ROOT,
          "  search %5d/s  p99 %.3f ms  delivered %.0f/s  proxy cores %.2f  %s%n",
          rate,
          p99,
          delivered,
          cores,
          ok ? "ok" : "over");
      if (!ok) {
        break;
      }
      best = rate;
      perCore = path.proxyTrees().isEmpty() || cores <= 0 ? null : round(rate / cores);
    }
    return new Row(
        "dataplane",
        path.name,
        "max-rate",
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
        best,
        perCore,
        best == null
            ? "p99 >= 10 ms already at " + plan.searchRates().getFirst() + " calls/s"
            : null);
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
