package dev.meshwork.bench.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * {@code scenario = controlplane}: the real control plane (own JVM, folder source) with S Services,
 * E endpoints and P simulated sidecars, each on its own ADS stream over loopback gRPC. Measures, in
 * this order: the cold sync of P fresh proxies; one Service change (one more endpoint: EDS) and one
 * GRPCRoute change (a canary split: RDS), each from the file edit to every proxy having ACKed; heap
 * after GC and CPU; a restart of the control plane and the time until every reconnected proxy is in
 * sync again; and over everything after the cold sync, responses that changed nothing for the proxy
 * that got them.
 *
 * <p>Usage: {@code ControlPlaneBench --home DIR [--quick] [--services S --endpoints E --proxies
 * P]}. Full: 1,000 / 10,000 / 1,000; quick: 100 / 1,000 / 100 (under a minute). Writes its row into
 * {@code bench/results/latest.json} ({@code quick.json} for quick runs), replacing only the
 * controlplane row, and, for a full run, its section of {@code docs/benchmarks.md}.
 */
public final class ControlPlaneBench {
  private ControlPlaneBench() {}

  static final Duration SETTLE = Duration.ofMillis(1500);
  static final Duration PHASE_TIMEOUT = Duration.ofMinutes(3);

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--quick")) {
        a.put("quick", "true");
      } else if (args[i].equals("--delta")) {
        a.put("xds", "delta");
      } else if (args[i].equals("--sotw")) {
        a.put("xds", "sotw");
      } else if (args[i].startsWith("--") && i + 1 < args.length) {
        a.put(args[i].substring(2), args[++i]);
      } else {
        System.err.println(
            "usage: ControlPlaneBench --home DIR [--quick] [--services S"
                + " --endpoints E --proxies P]");
        System.exit(2);
      }
    }
    boolean quick = a.containsKey("quick");
    boolean delta = "delta".equals(a.getOrDefault("xds", "sotw"));
    Path home = Path.of(a.getOrDefault("home", ".")).toAbsolutePath().normalize();
    int services = Integer.parseInt(a.getOrDefault("services", quick ? "100" : "1000"));
    int endpoints = Integer.parseInt(a.getOrDefault("endpoints", quick ? "1000" : "10000"));
    int proxies = Integer.parseInt(a.getOrDefault("proxies", quick ? "100" : "1000"));
    boolean custom =
        a.containsKey("services") || a.containsKey("endpoints") || a.containsKey("proxies");

    Result r = run(services, endpoints, proxies, delta);
    System.out.println(r);
    if (custom) {
      System.out.println("custom size: results not written");
      return;
    }
    Path json = home.resolve("bench/results/" + (quick ? "quick.json" : "latest.json"));
    List<Map<String, Object>> rows = ResultsFile.mergeRow(json, r.toRow(), home);
    if (!quick) {
      ResultsFile.mergeSection(home.resolve("docs/benchmarks.md"), markdown(rows));
    }
    System.out.println("results: " + json + (quick ? "" : ", report: docs/benchmarks.md"));
    System.exit(0); // gRPC's and Netty's non-daemon threads
  }

  static Result run(int services, int endpoints, int proxyCount, boolean delta) throws Exception {
    Path work = Files.createTempDirectory("meshwork-cp-bench-");
    Path config = work.resolve("config");
    Path log = work.resolve("control-plane.log");
    MeshFolder folder = new MeshFolder(config, services, endpoints);
    folder.writeAll();
    int grpcPort = ControlPlaneProcess.freePort();
    int httpPort = ControlPlaneProcess.freePort();
    System.err.printf(
        "controlplane: %d services, %d endpoints, %d proxies; control plane log %s%n",
        services, folder.endpoints(), proxyCount, log);

    ControlPlaneProcess cp = ControlPlaneProcess.start(config, grpcPort, httpPort, log);
    cp.awaitReady(PHASE_TIMEOUT);

    AtomicLong needless = new AtomicLong();
    ExecutorService callbacks = Executors.newFixedThreadPool(2);
    ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor();
    List<ManagedChannel> channels = new ArrayList<>();
    List<BenchProxy> proxies = new ArrayList<>();
    Result r = new Result(services, folder.endpoints(), proxyCount, delta);
    try {
      for (int i = 0; i < proxyCount; i++) {
        int svc = i % services;
        ManagedChannel ch =
            NettyChannelBuilder.forAddress("127.0.0.1", grpcPort)
                .usePlaintext()
                .executor(callbacks)
                .maxInboundMessageSize(256 << 20)
                .build();
        channels.add(ch);
        var node =
            SimulatedProxy.node(
                MeshFolder.namespace(svc),
                MeshFolder.pod(svc, i / services),
                MeshFolder.service(svc));
        proxies.add(
            delta
                ? new DeltaProxy(node, ch, retries, needless)
                : new SimulatedProxy(node, ch, retries, needless));
      }

      // Cold sync: every proxy connects at once with nothing.
      double cpu0 = cp.cpuSeconds();
      long t0 = System.nanoTime();
      proxies.forEach(BenchProxy::start);
      Map<String, String> synced = awaitAll(proxies, SimulatedProxy.TYPES, v -> true);
      r.coldSyncMs = lastAck(proxies, SimulatedProxy.TYPES, t0);
      System.err.printf("controlplane: cold sync %.0f ms%n", r.coldSyncMs);
      r.cpuSecondsColdSync = cp.cpuSeconds() - cpu0;
      long needlessBefore = needless.get();

      // One Service change: one more endpoint behind one Service.
      r.serviceChangeMs =
          change(cp, proxies, synced, SimulatedProxy.EDS, () -> folder.scaleUp(services / 2), r);
      synced = versions(proxies.getFirst());
      r.pushMsService = cp.proxies().path("lastPushMs").asDouble();
      // One GRPCRoute change: the first canary goes from 90/10 to 80/20.
      r.routeChangeMs =
          change(cp, proxies, synced, SimulatedProxy.RDS, () -> folder.shiftCanary(80), r);
      synced = versions(proxies.getFirst());
      r.pushMsRoute = cp.proxies().path("lastPushMs").asDouble();
      System.err.printf(
          "controlplane: service change %.0f ms, route change %.0f ms%n",
          r.serviceChangeMs, r.routeChangeMs);

      r.heapMiB = cp.heapAfterGcMiB();
      System.err.printf("controlplane: heap after GC %.0f MiB%n", r.heapMiB);

      // Restart: proxies keep their config and versions and reconnect on their own.
      cp.close();
      t0 = System.nanoTime();
      cp = ControlPlaneProcess.start(config, grpcPort, httpPort, log);
      try {
        r.resyncMs = awaitResync(cp, proxies, t0);
      } catch (IllegalStateException e) {
        // Report what was measured; the failed phase says why in the note.
        r.resyncMs = Double.NaN;
        r.note = "resync failed: " + e.getMessage();
        r.needlessPushes = needless.get() - needlessBefore;
        return r;
      }
      Thread.sleep(SETTLE.toMillis()); // anything the new control plane still pushes is counted
      Map<String, String> after = versions(proxies.getFirst());
      if (!after.equals(synced)) {
        r.note = "versions changed across the restart: " + synced + " -> " + after;
      }
      r.needlessPushes = needless.get() - needlessBefore;
      return r;
    } finally {
      proxies.forEach(BenchProxy::close);
      channels.forEach(ManagedChannel::shutdownNow);
      callbacks.shutdownNow();
      retries.shutdownNow();
      cp.close();
    }
  }

  /**
   * Edits, then waits until every proxy ACKed a new version of {@code type}; ms to the last ACK.
   */
  private static double change(
      ControlPlaneProcess cp,
      List<BenchProxy> proxies,
      Map<String, String> before,
      String type,
      Runnable edit,
      Result r)
      throws Exception {
    double cpu0 = cp.cpuSeconds();
    long t0 = System.nanoTime();
    edit.run();
    String old = before.get(type);
    Map<String, String> now = awaitAll(proxies, List.of(type), v -> !v.get(type).equals(old));
    double ms = lastAck(proxies, List.of(type), t0);
    r.cpuSecondsChanges += cp.cpuSeconds() - cpu0;
    for (String other : SimulatedProxy.TYPES) {
      if (!other.equals(type) && !Objects.equals(now.get(other), before.get(other))) {
        r.note =
            (r.note == null ? "" : r.note + "; ")
                + "a change of "
                + short_(type)
                + " also changed "
                + short_(other);
      }
    }
    return ms;
  }

  /**
   * Waits until every proxy holds the same ACKed version of each of {@code types}, accepted by
   * {@code wanted}, and nothing moves for {@link #SETTLE}; returns the first proxy's versions.
   */
  private static Map<String, String> awaitAll(
      List<BenchProxy> proxies, List<String> types, Predicate<Map<String, String>> wanted)
      throws InterruptedException {
    long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
    Map<String, String> stableSince = null;
    long stableAt = 0;
    long responses = -1;
    while (System.nanoTime() < deadline) {
      Map<String, String> common = common(proxies, types);
      long total = proxies.stream().mapToLong(BenchProxy::responses).sum();
      if (common != null && wanted.test(common)) {
        if (common.equals(stableSince) && total == responses) {
          if (System.nanoTime() - stableAt >= SETTLE.toNanos()) {
            return versions(proxies.getFirst());
          }
        } else {
          stableSince = common;
          stableAt = System.nanoTime();
          responses = total;
        }
      } else {
        stableSince = null;
      }
      Thread.sleep(20); // polling many proxies' volatile state; no single event to await
    }
    throw new IllegalStateException(
        "proxies did not converge on " + types + " within " + PHASE_TIMEOUT);
  }

  /** The version every proxy ACKed for each type, or null while they differ or miss one. */
  private static Map<String, String> common(List<BenchProxy> proxies, List<String> types) {
    Map<String, String> out = new HashMap<>();
    for (String t : types) {
      String v = null;
      for (BenchProxy p : proxies) {
        String acked = p.acked(t);
        if (acked.isEmpty() || (v != null && !v.equals(acked))) {
          return null;
        }
        v = acked;
      }
      out.put(t, v);
    }
    return out;
  }

  static Map<String, String> versions(BenchProxy p) {
    Map<String, String> out = new HashMap<>();
    SimulatedProxy.TYPES.forEach(t -> out.put(t, p.acked(t)));
    return out;
  }

  private static double lastAck(List<BenchProxy> proxies, List<String> types, long t0) {
    long last = t0;
    for (BenchProxy p : proxies) {
      for (String t : types) {
        last = Math.max(last, p.ackedAtNanos(t));
      }
    }
    return (last - t0) / 1e6;
  }

  /**
   * After a restart: until the new control plane lists every proxy as connected with published
   * versions equal to those the proxy holds (when they are equal nothing needs sending: the state
   * of the world protocol compares versions).
   */
  private static double awaitResync(ControlPlaneProcess cp, List<BenchProxy> proxies, long t0)
      throws Exception {
    long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
    int inSync = 0;
    int listed = 0;
    Map<String, BenchProxy> byId = new HashMap<>();
    proxies.forEach(p -> byId.put(p.id(), p));
    while (System.nanoTime() < deadline) {
      JsonNode page;
      if (!cp.alive()) {
        throw new IllegalStateException(
            "the control plane exited during the resync (" + cp.lastLogLine() + ")");
      }
      try {
        page = cp.proxies();
      } catch (java.io.IOException e) {
        Thread.sleep(50); // not listening yet
        continue;
      }
      inSync = 0;
      listed = page.path("proxies").size();
      for (JsonNode p : page.path("proxies")) {
        BenchProxy sp = byId.get(p.path("id").asText());
        JsonNode pub = p.path("published");
        if (sp != null
            && pub.path("listeners").asText().equals(sp.acked(SimulatedProxy.LDS))
            && pub.path("routes").asText().equals(sp.acked(SimulatedProxy.RDS))
            && pub.path("clusters").asText().equals(sp.acked(SimulatedProxy.CDS))
            && pub.path("endpoints").asText().equals(sp.acked(SimulatedProxy.EDS))) {
          inSync++;
        }
      }
      if (inSync == proxies.size()) {
        return (System.nanoTime() - t0) / 1e6;
      }
      Thread.sleep(100); // the page is large at 1,000 proxies: poll gently
    }
    throw new IllegalStateException(
        "proxies not back in sync within "
            + PHASE_TIMEOUT
            + ": "
            + listed
            + " connected, "
            + inSync
            + " in sync");
  }

  /** The report section, from every controlplane row of the results (one per xDS variant). */
  static String markdown(List<Map<String, Object>> rows) {
    StringBuilder t = new StringBuilder();
    t.append(
        """
        ## Control plane at scale

        Generated by `ControlPlaneBench` (`scenario: controlplane`). The real control plane runs in a
        JVM of its own (`%s`), fed from a folder of YAML (one file per Service with its
        EndpointSlice and pods, ten namespaces, a 90/10 GRPCRoute canary on every tenth Service).
        Simulated sidecars each hold their own ADS stream over loopback gRPC from one other JVM and
        ACK every response: `sotw` subscribes as the Meshwork sidecar does today (state of the world:
        LDS wildcard, then RDS, CDS, EDS by name), `delta` uses incremental xDS (LDS and CDS
        wildcard, RDS and EDS by name). Both JVMs share the machine's cores with everything else
        running on it. Times are from the file edit (or the process start) to the last proxy's ACK.
        Where this stands and why: [control-plane.md](control-plane.md#at-scale).

        """
            .formatted(String.join(" ", ControlPlaneProcess.JVM_FLAGS)));
    t.append("| figure | goal |");
    rows.forEach(r -> t.append(" ").append(r.get("xds")).append(" |"));
    t.append("\n|---|---|");
    rows.forEach(r -> t.append("---|"));
    t.append("\n");
    String[][] lines = {
      {"services / endpoints / proxies", "1,000 / 10,000 / 1,000", "size"},
      {
        "one Service change (one more endpoint) to every proxy ACKed, ms",
        "<= 1,000",
        "serviceChangeToAllAckedMs"
      },
      {
        "one GRPCRoute change (canary split) to every proxy ACKed, ms",
        "<= 1,000",
        "routeChangeToAllAckedMs"
      },
      {
        "translate and set snapshots for every proxy (control plane's own figure), ms", "", "pushMs"
      },
      {"cold sync: every proxy connects at once with nothing, ms", "", "coldSyncMs"},
      {
        "resync after a control plane restart (process start to every proxy in sync), ms",
        "",
        "resyncMs"
      },
      {"control plane heap after GC, MiB", "<= 512", "heapMiB"},
      {"control plane CPU per change, core-seconds", "", "cpuCoreSecondsPerChange"},
      {"control plane CPU for the cold sync, core-seconds", "", "cpuCoreSecondsColdSync"},
      {"pushes to proxies whose config did not change", "0", "needlessPushes"},
    };
    for (String[] l : lines) {
      t.append("| ").append(l[0]).append(" | ").append(l[1]).append(" |");
      for (Map<String, Object> r : rows) {
        Object v =
            l[2].equals("size")
                ? r.get("services") + " / " + r.get("endpoints") + " / " + r.get("proxies")
                : r.get(l[2]);
        t.append(" ").append(v == null ? "-" : v).append(" |");
      }
      t.append("\n");
    }
    rows.stream()
        .filter(r -> r.get("note") != null)
        .forEach(
            r -> t.append("\nNote (").append(r.get("xds")).append("): ").append(r.get("note")));
    return t.toString();
  }

  static String short_(String typeUrl) {
    return typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
  }

  /** One run's figures. */
  static final class Result {
    final int services;
    final int endpoints;
    final int proxies;
    final boolean delta;
    double coldSyncMs;
    double serviceChangeMs;
    double routeChangeMs;
    double resyncMs;
    double heapMiB;
    double cpuSecondsColdSync;
    double cpuSecondsChanges;
    double pushMsService;
    double pushMsRoute;
    long needlessPushes;
    String note;

    Result(int services, int endpoints, int proxies, boolean delta) {
      this.delta = delta;
      this.services = services;
      this.endpoints = endpoints;
      this.proxies = proxies;
    }

    double changeToAllAckedMs() {
      return Math.max(serviceChangeMs, routeChangeMs);
    }

    Map<String, Object> toRow() {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("scenario", "controlplane");
      row.put("proxies", proxies);
      row.put("services", services);
      row.put("endpoints", endpoints);
      row.put("xds", delta ? "delta" : "sotw");
      row.put("changeToAllAckedMs", round(changeToAllAckedMs()));
      row.put("resyncMs", Double.isNaN(resyncMs) ? null : round(resyncMs));
      row.put("heapMiB", round(heapMiB));
      row.put("needlessPushes", needlessPushes);
      row.put("serviceChangeToAllAckedMs", round(serviceChangeMs));
      row.put("routeChangeToAllAckedMs", round(routeChangeMs));
      row.put("coldSyncMs", round(coldSyncMs));
      row.put("pushMs", round(Math.max(pushMsService, pushMsRoute)));
      row.put("cpuCoreSecondsPerChange", round(cpuSecondsChanges / 2));
      row.put("cpuCoreSecondsColdSync", round(cpuSecondsColdSync));
      if (note != null) {
        row.put("note", note);
      }
      return row;
    }

    static double round(double v) {
      return Math.round(v * 10) / 10.0;
    }

    @Override
    public String toString() {
      return toRow().toString();
    }
  }
}
