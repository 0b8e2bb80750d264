package dev.meshwork.meshctl.demo;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the demo runs and how, worked out before anything starts: the control plane (with its CA)
 * fed from the config folder, one "pod" per sample instance, and the caller. A pod is a loopback
 * address of its own (127.0.10.x, its pod IP) where its sidecar listens, plus a second address
 * (127.0.20.x) standing for the pod's localhost, where the app listens. On a node, iptables capture
 * sends traffic for the pod IP to the sidecar; here the sidecar simply owns the pod IP, so traffic
 * between pods crosses the two sidecars exactly as it would in a cluster.
 *
 * <p>Pure apart from choosing free ports and writing the generated pod YAML.
 */
record DemoTopology(List<Component> components, Map<String, String> adminUrls) {

  /** The shipped samples, copied into an empty config folder. */
  static final List<String> SAMPLE_FILES =
      List.of("10-services.yaml", "20-greeter-route.yaml", "30-peer-authentication.yaml");

  /** The pods, as the control plane reads them from the folder (file written by the demo). */
  static final String PODS_FILE = "90-demo-pods.generated.yaml";

  static final String NAMESPACE = "demo";
  static final int GREETER_PORT = 50051;
  static final int CALLER_PORT = 50052;
  static final String GREETER_AUTHORITY = "greeter.demo.svc.cluster.local:" + GREETER_PORT;

  /**
   * One process to start, in order.
   *
   * @param readyUrl polled until it answers 200 before the next component starts; null = none
   * @param statsStream true for the caller, whose stdout carries its stats
   */
  record Component(String name, List<String> command, String readyUrl, boolean statsStream) {}

  /** A sample pod. */
  record Pod(
      String name, String app, String version, String serviceAccount, int index, int appPort) {
    String podIp() {
      return "127.0.10." + index;
    }

    String localIp() {
      return "127.0.20." + index;
    }
  }

  static final List<Pod> PODS =
      List.of(
          new Pod("greeter-v1-a", "greeter", "v1", "greeter", 1, GREETER_PORT),
          new Pod("greeter-v1-b", "greeter", "v1", "greeter", 2, GREETER_PORT),
          new Pod("greeter-v2-a", "greeter", "v2", "greeter", 3, GREETER_PORT),
          new Pod("caller-a", "caller", "v1", "caller", 4, CALLER_PORT));

  static DemoTopology plan(Path home, Path work, Path config, int rate) throws IOException {
    Jars jars = Jars.locate(home);
    int grpcPort = freePort();
    int httpPort = freePort();
    Files.writeString(config.resolve(PODS_FILE), podsYaml());
    Path tokens = work.resolve("demo-tokens.properties");
    Files.writeString(tokens, tokensFile());
    for (Pod pod : PODS) {
      Files.createDirectories(tokenFile(work, pod).getParent());
      Files.writeString(tokenFile(work, pod), "demo-token-" + pod.name());
    }

    List<Component> components = new ArrayList<>();
    Map<String, String> admin = new LinkedHashMap<>();
    components.add(
        new Component(
            "control-plane",
            javaJar(
                jars.controlPlane(),
                List.of(
                    "--config-dir",
                    config.toString(),
                    "--grpc-port",
                    Integer.toString(grpcPort),
                    "--http-port",
                    Integer.toString(httpPort),
                    "--ca-dir",
                    work.resolve("ca").toString(),
                    "--static-tokens",
                    tokens.toString())),
            "http://127.0.0.1:" + httpPort + "/healthz",
            false));
    admin.put("control plane proxies", "http://127.0.0.1:" + httpPort + "/debug/proxies");

    for (Pod pod : PODS) {
      boolean caller = pod.app().equals("caller");
      int appPort = freePort();
      int adminPort = freePort();
      int statusPort = freePort();
      if (!caller) {
        components.add(
            new Component(
                pod.name(),
                java(
                    jars.meshctl(),
                    "dev.meshwork.meshctl.demo.apps.GreeterApp",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    Integer.toString(appPort),
                    "--instance",
                    pod.name(),
                    "--version",
                    pod.version()),
                null,
                false));
      }
      List<String> sidecar =
          new ArrayList<>(
              List.of(
                  "run",
                  // "localhost" is a name on the control plane's certificate; 127.0.0.1 is not.
                  "--xds",
                  "localhost:" + grpcPort,
                  "--xds-ca",
                  work.resolve("ca/roots.pem").toString(),
                  // The pod's identity: a key made in the sidecar, a certificate from the CA for
                  // the service account its token proves.
                  "--ca",
                  "localhost:" + grpcPort,
                  "--ca-roots",
                  work.resolve("ca/roots.pem").toString(),
                  "--ca-token",
                  tokenFile(work, pod).toString(),
                  "--namespace",
                  NAMESPACE,
                  "--pod-name",
                  pod.name(),
                  "--service-account",
                  pod.serviceAccount(),
                  "--workload",
                  pod.app(),
                  "--labels",
                  "app=" + pod.app() + ",version=" + pod.version(),
                  "--instance-ips",
                  pod.podIp(),
                  // No iptables here: the sidecar owns the pod IP instead of capturing it.
                  "--outbound-port",
                  "-1",
                  "--inbound-port",
                  "-1",
                  "--admin-port",
                  Integer.toString(adminPort),
                  "--status-port",
                  Integer.toString(statusPort)));
      if (caller) {
        sidecar.addAll(List.of("--outbound-listen", pod.podIp() + ":15001"));
      } else {
        sidecar.addAll(
            List.of(
                "--inbound-listen",
                pod.podIp() + ":" + pod.appPort(),
                "--app-port",
                Integer.toString(appPort)));
      }
      components.add(
          new Component(
              pod.name() + "-sidecar",
              sidecarJar(jars.sidecar(), sidecar),
              "http://127.0.0.1:" + statusPort + "/ready",
              false));
      admin.put(pod.name() + " sidecar admin", "http://127.0.0.1:" + adminPort + "/");
      if (caller) {
        components.add(
            new Component(
                pod.name(),
                java(
                    jars.meshctl(),
                    "dev.meshwork.meshctl.demo.apps.CallerApp",
                    "--target",
                    pod.podIp() + ":15001",
                    "--authority",
                    GREETER_AUTHORITY,
                    "--rate",
                    Integer.toString(rate)),
                null,
                true));
      }
    }
    return new DemoTopology(List.copyOf(components), Map.copyOf(admin));
  }

  /** The pods as a cluster would show them: labels, service account, pod IP, injected sidecar. */
  static String podsYaml() {
    StringBuilder b =
        new StringBuilder(
            "# Written by meshctl demo: the sample pods, as the API server would show them.\n");
    for (Pod p : PODS) {
      b.append(
          """
          ---
          apiVersion: v1
          kind: Pod
          metadata:
            name: %s
            namespace: %s
            labels: {app: %s, version: %s}
            annotations: {meshwork.dev/injected: "true"}
          spec:
            serviceAccountName: %s
            containers:
            - name: app
              image: meshwork/demo-%s
              ports: [{containerPort: %d, name: grpc}]
          status:
            phase: Running
            podIP: %s
          """
              .formatted(
                  p.name(),
                  NAMESPACE,
                  p.app(),
                  p.version(),
                  p.serviceAccount(),
                  p.app(),
                  p.appPort(),
                  p.podIp()));
    }
    return b.toString();
  }

  /** The demo's stand-in for TokenReview: one fixed token per pod, naming its service account. */
  static String tokensFile() {
    StringBuilder b =
        new StringBuilder(
            "# meshctl demo only: token = namespace/serviceaccount. Never in a cluster.\n");
    for (Pod p : PODS) {
      b.append("demo-token-").append(p.name()).append('=').append(NAMESPACE).append('/');
      b.append(p.serviceAccount()).append('\n');
    }
    return b.toString();
  }

  /** Where a pod's token lives, as the projected token would in a cluster. */
  static Path tokenFile(Path work, Pod pod) {
    return work.resolve("tokens").resolve(pod.name() + ".token");
  }

  private static List<String> java(Path classpath, String mainClass, String... args) {
    List<String> cmd = jvm();
    cmd.add("-cp");
    cmd.add(classpath.toString());
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static List<String> javaJar(Path jar, List<String> args) {
    List<String> cmd = jvm();
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(args);
    return cmd;
  }

  /** A sidecar with the JVM flags it ships with (the root pom's meshwork.sidecar.jvmFlags). */
  private static List<String> sidecarJar(Path jar, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    try (var in = DemoTopology.class.getResourceAsStream("/meshwork-sidecar-jvm.properties")) {
      java.util.Properties p = new java.util.Properties();
      p.load(in);
      cmd.addAll(List.of(p.getProperty("jvmFlags").trim().split("\\s+")));
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("meshwork-sidecar-jvm.properties missing from meshctl", e);
    }
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(args);
    return cmd;
  }

  private static List<String> jvm() {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    // Small heaps, serial GC and the quick C1 compiler only: the demo runs nine JVMs on a
    // laptop-sized machine, and warming nine C2 compilers at once would starve the traffic.
    cmd.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx96m"));
    return cmd;
  }

  private static final java.util.Set<Integer> HANDED_OUT =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A loopback port that binds now and was not handed out before. Ports are chosen below the
   * kernel's ephemeral range: a port from that range (what binding port 0 returns) can be taken by
   * any outgoing connection of the demo's own processes before the process meant to listen on it
   * starts, and a sidecar then fails with "Address already in use".
   */
  private static int freePort() throws IOException {
    int end = Math.max(ephemeralRangeStart(), 13_024);
    int start = Math.max(1024, end - 12_000);
    int span = end - start;
    int offset = java.util.concurrent.ThreadLocalRandom.current().nextInt(span);
    for (int i = 0; i < span; i++) {
      int port = start + (offset + i) % span;
      if (HANDED_OUT.contains(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
        if (HANDED_OUT.add(port)) {
          return s.getLocalPort();
        }
      } catch (IOException inUse) {
        // taken: try the next one
      }
    }
    throw new IOException("no free loopback port between " + start + " and " + end);
  }

  private static int ephemeralRangeStart() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32768; // Linux's default
    }
  }

  /** The built jars (with their lib/ folders) the demo runs. */
  record Jars(Path controlPlane, Path sidecar, Path meshctl) {
    static Jars locate(Path home) throws IOException {
      Jars jars =
          new Jars(
              home.resolve("control-plane/target/control-plane.jar"),
              home.resolve("sidecar-proxy/target/sidecar-proxy.jar"),
              home.resolve("meshctl-cli/target/meshctl.jar"));
      for (Path p : List.of(jars.controlPlane(), jars.sidecar(), jars.meshctl())) {
        if (!Files.isRegularFile(p)) {
          throw new IOException(
              p + " is missing: run ./meshctl (it builds them) or ./mvnw install -DskipTests");
        }
      }
      return jars;
    }
  }
}
