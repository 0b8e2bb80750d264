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
    Path home = Path.of(a.getOrDefault("home", ".")).toAbsolutePath().normalize();
    int services = Integer.parseInt(a.getOrDefault("services", quick ? "100" : "1000"));
    int endpoints = Integer.parseInt(a.getOrDefault("endpoints", quick ? "1000" : "10000"));
    int proxies = Integer.parseInt(a.getOrDefault("proxies", quick ? "100" : "1000"));
    boolean custom =
        a.containsKey("services") || a.containsKey("endpoints") || a.containsKey("proxies");

    Result r = run(services, endpoints, proxies);
    System.out.println(r);
    if (custom) {
      System.out.println("custom size: results not written");
      return;
    }
    Path json = home.resolve("bench/results/" + (quick ? "quick.json" : "latest.json"));
    ResultsFile.mergeRow(json, r.toRow(), home);
    if (!quick) {
      ResultsFile.mergeSection(home.resolve("docs/benchmarks.md"), r.markdown());
    }
    System.out.println("results: " + json + (quick ? "" : ", report: docs/benchmarks.md"));
    System.exit(0); // gRPC's and Netty's non-daemon threads
  }

  static Result run(int services, int endpoints, int proxyCount) throws Exception {
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
    List<SimulatedProxy> proxies = new ArrayList<>();
    Result r = new Result(services, folder.endpoints(), proxyCount);
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
        proxies.add(
            new SimulatedProxy(
                MeshFolder.namespace(svc),
                MeshFolder.pod(svc, i / services),
                MeshFolder.service(svc),
                ch,
                retries,
                needless));
      }

      // Cold sync: every proxy connects at once with nothing.
      double cpu0 = cp.cpuSeconds();
      long t0 = System.nanoTime();
      proxies.forEach(SimulatedProxy::start);
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

      // Restart: proxies keep their config and versions and reconnect on their own.
      cp.close();
      t0 = System.nanoTime();
      cp = ControlPlaneProcess.start(config, grpcPort, httpPort, log);
      r.resyncMs = awaitResync(cp, proxies, t0);
      Thread.sleep(SETTLE.toMillis()); // anything the new control plane still pushes is counted
      Map<String, String> after = versions(proxies.getFirst());
      if (!after.equals(synced)) {
        r.note = "versions changed across the restart: " + synced + " -> " + after;
      }
      r.needlessPushes = needless.get() - needlessBefore;
      return r;
    } finally {
      proxies.forEach(SimulatedProxy::close);
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
      List<SimulatedProxy> proxies,
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
      List<SimulatedProxy> proxies, List<String> types, Predicate<Map<String, String>> wanted)
      throws InterruptedException {
    long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
    Map<String, String> stableSince = null;
    long stableAt = 0;
    long responses = -1;
    while (System.nanoTime() < deadline) {
      Map<String, String> common = common(proxies, types);
      long total = proxies.stream().mapToLong(SimulatedProxy::responses).sum();
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
  private static Map<String, String> common(List<SimulatedProxy> proxies, List<String> types) {
    Map<String, String> out = new HashMap<>();
    for (String t : types) {
      String v = null;
      for (SimulatedProxy p : proxies) {
        String acked = p.type(t).acked;
        if (acked.isEmpty() || (v != null && !v.equals(acked))) {
          return null;
        }
        v = acked;
      }
      out.put(t, v);
    }
    return out;
  }

  static Map<String, String> versions(SimulatedProxy p) {
    Map<String, String> out = new HashMap<>();
    SimulatedProxy.TYPES.forEach(t -> out.put(t, p.type(t).acked));
    return out;
  }

  private static double lastAck(List<SimulatedProxy> proxies, List<String> types, long t0) {
    long last = t0;
    for (SimulatedProxy p : proxies) {
      for (String t : types) {
        last = Math.max(last, p.type(t).ackedAtNanos);
      }
    }
    return (last - t0) / 1e6;
  }

  /**
   * After a restart: until the new control plane lists every proxy as connected with published
   * versions equal to those the proxy holds (when they are equal nothing needs sending: the state
   * of the world protocol compares versions).
   */
  private static double awaitResync(ControlPlaneProcess cp, List<SimulatedProxy> proxies, long t0)
      throws Exception {
    long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
    int inSync = 0;
    int listed = 0;
    Map<String, SimulatedProxy> byId = new HashMap<>();
    proxies.forEach(p -> byId.put(p.id(), p));
    while (System.nanoTime() < deadline) {
      JsonNode page;
      try {
        page = cp.proxies();
      } catch (java.io.IOException e) {
        Thread.sleep(50); // not listening yet
        continue;
      }
      inSync = 0;
      listed = page.path("proxies").size();
      for (JsonNode p : page.path("proxies")) {
        SimulatedProxy sp = byId.get(p.path("id").asText());
        JsonNode pub = p.path("published");
        if (sp != null
            && pub.path("listeners").asText().equals(sp.type(SimulatedProxy.LDS).acked)
            && pub.path("routes").asText().equals(sp.type(SimulatedProxy.RDS).acked)
            && pub.path("clusters").asText().equals(sp.type(SimulatedProxy.CDS).acked)
            && pub.path("endpoints").asText().equals(sp.type(SimulatedProxy.EDS).acked)) {
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

  static String short_(String typeUrl) {
    return typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
  }

  /** One run's figures. */
  static final class Result {
    final int services;
    final int endpoints;
    final int proxies;
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

    Result(int services, int endpoints, int proxies) {
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
      row.put("changeToAllAckedMs", round(changeToAllAckedMs()));
      row.put("resyncMs", round(resyncMs));
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

    String markdown() {
      return String.format(
          java.util.Locale.ROOT,
          """
          ## Control plane at scale

          Generated by `ControlPlaneBench` (`scenario: controlplane`). The real control plane runs in a
          JVM of its own (`%s`), fed from a folder of YAML; %,d simulated sidecars each hold their own
          ADS stream (state of the world, the sidecar's subscription order) over loopback gRPC from one
          other JVM, and ACK every response. The two share the machine's cores.

          | figure | value | goal |
          |---|---|---|
          | Services / endpoints / proxies | %,d / %,d / %,d | 1,000 / 10,000 / 1,000 |
          | one Service change (one more endpoint) to every proxy ACKed | %.0f ms | <= 1,000 ms |
          | one GRPCRoute change (canary split) to every proxy ACKed | %.0f ms | <= 1,000 ms |
          | translate and set snapshots for every proxy (control plane's own figure) | %.0f ms | |
          | cold sync: every proxy connects at once with nothing | %.0f ms | |
          | resync after a control plane restart (process start to every proxy in sync) | %.0f ms | |
          | control plane heap after GC | %.0f MiB | <= 512 MiB |
          | control plane CPU per change / for the cold sync | %.2f / %.2f core-s | |
          | pushes to proxies whose config did not change | %d | 0 |
          %s
          """,
          String.join(" ", ControlPlaneProcess.JVM_FLAGS),
          proxies,
          services,
          endpoints,
          proxies,
          serviceChangeMs,
          routeChangeMs,
          Math.max(pushMsService, pushMsRoute),
          coldSyncMs,
          resyncMs,
          heapMiB,
          cpuSecondsChanges / 2,
          cpuSecondsColdSync,
          needlessPushes,
          note == null ? "" : "\nNote: " + note + "\n");
    }

    @Override
    public String toString() {
      return toRow().toString();
    }
  }
}
