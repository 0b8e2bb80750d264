package dev.meshwork.bench.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real control plane ({@code ControlPlaneMain}) in a JVM of its own, so its heap and CPU are
 * its own: folder source, plaintext ADS on loopback, no CA and no webhook (neither is on the path
 * being measured).
 */
final class ControlPlaneProcess implements AutoCloseable {
  /** The control plane's JVM flags in this benchmark. */
  static final List<String> JVM_FLAGS = List.of("-XX:+UseG1GC", "-Xmx1g", "-Xss512k");

  private final Process process;
  private final int grpcPort;
  private final int httpPort;
  private final Path log;
  private final HttpClient http = HttpClient.newHttpClient();

  private ControlPlaneProcess(Process process, int grpcPort, int httpPort, Path log) {
    this.process = process;
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
    this.log = log;
  }

  static ControlPlaneProcess start(Path configDir, int grpcPort, int httpPort, Path log)
      throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java));
    cmd.addAll(JVM_FLAGS);
    // Profiling aid: extra flags for the control plane, e.g. -XX:StartFlightRecording=...
    String extra = System.getProperty("meshwork.bench.controlPlaneFlags", "");
    if (!extra.isBlank()) {
      cmd.addAll(List.of(extra.trim().split("\\s+")));
    }
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            "dev.meshwork.controlplane.ControlPlaneMain",
            "--config-dir",
            configDir.toString(),
            "--bind",
            "127.0.0.1",
            "--grpc-port",
            Integer.toString(grpcPort),
            "--http-port",
            Integer.toString(httpPort),
            "--plaintext",
            "--no-webhook"));
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return new ControlPlaneProcess(p, grpcPort, httpPort, log);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  boolean alive() {
    return process.isAlive();
  }

  /** The last line of the control plane's log that names an error, for a failure message. */
  String lastLogLine() {
    try (var lines = Files.lines(log)) {
      return lines
          .filter(l -> l.contains("Error") || l.contains("ERROR") || l.contains("Exception"))
          .reduce((a, b) -> b)
          .orElse("see " + log);
    } catch (IOException e) {
      return "see " + log;
    }
  }

  int grpcPort() {
    return grpcPort;
  }

  long pid() {
    return process.pid();
  }

  /** Waits until {@code /healthz} says the first config is published. */
  void awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("control plane exited; see " + log);
      }
      try {
        if (get("/healthz").statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(50); // polling a process we do not control: nothing to await on
    }
    throw new IllegalStateException("control plane not ready after " + timeout + "; see " + log);
  }

  /** {@code /debug/proxies} as JSON. */
  JsonNode proxies() throws Exception {
    return new ObjectMapper().readTree(get("/debug/proxies").body());
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** User plus system CPU seconds so far, from /proc. */
  double cpuSeconds() throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // USER_HZ is 100
  }

  private static final Pattern USED = Pattern.compile("garbage-first heap\\s+total.*?used (\\d+)K");

  /** Heap in use right after a full GC, in MiB (jcmd GC.run, then GC.heap_info). */
  double heapAfterGcMiB() throws Exception {
    jcmd("GC.run");
    String info = jcmd("GC.heap_info");
    Matcher m = USED.matcher(info);
    if (!m.find()) {
      throw new IllegalStateException("cannot read the heap from jcmd GC.heap_info:\n" + info);
    }
    return Long.parseLong(m.group(1)) / 1024.0;
  }

  private String jcmd(String command) throws Exception {
    Path javaBin = Path.of(ProcessHandle.current().info().command().orElseThrow()).getParent();
    Process p =
        new ProcessBuilder(javaBin.resolve("jcmd").toString(), Long.toString(pid()), command)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException("jcmd " + command + " failed: " + out);
    }
    return out;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy(); // SIGTERM: the control plane's shutdown hook closes its streams
    if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
