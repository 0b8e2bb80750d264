package dev.meshwork.bench.dataplane;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One way from the load generator to the greeter: nothing in between, or a client-side and a
 * server-side proxy with mutual TLS between them. Subclasses start and stop their processes.
 */
abstract class ProxyPair implements AutoCloseable {
  /** What the load generator dials. */
  record Entry(String target, String authority) {}

  final String name;
  final List<Process> processes = new ArrayList<>();

  ProxyPair(String name) {
    this.name = name;
  }

  /** Starts the pair in front of the greeter at {@code app}; returns where to send calls. */
  abstract Entry start(String app, Path work, Path certs) throws Exception;

  /** Milliseconds from starting the client-side proxy to it being ready, where that is measured. */
  Double readyMs() {
    return null;
  }

  /** The proxy processes (not helpers like a control plane); empty for the direct path. */
  List<Process> proxies() {
    return processes;
  }

  /** Each proxy as its process tree: nginx does its work in worker processes. */
  final List<List<Long>> proxyTrees() {
    List<List<Long>> trees = new ArrayList<>();
    for (Process p : proxies()) {
      List<Long> tree = new ArrayList<>();
      tree.add(p.pid());
      p.descendants().forEach(d -> tree.add(d.pid()));
      trees.add(tree);
    }
    return trees;
  }

  Process spawn(List<String> command, Path log) throws IOException {
    Process p =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    processes.add(p);
    return p;
  }

  static String render(Path template, Map<String, String> values) throws IOException {
    String text = Files.readString(template);
    for (var e : values.entrySet()) {
      text = text.replace("${" + e.getKey() + "}", e.getValue());
    }
    return text;
  }

  static void awaitPort(String host, int port, Process p, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IOException("process exited before listening on " + host + ":" + port);
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(host, port), 200);
        return;
      } catch (IOException e) {
        try {
          Thread.sleep(50);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException(ie);
        }
      }
    }
    throw new IOException("nothing listens on " + host + ":" + port + " after " + timeout);
  }

  @Override
  public void close() throws InterruptedException {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
      }
    }
  }

  /** The floor: the load generator talks to the greeter itself. */
  static final class Direct extends ProxyPair {
    Direct() {
      super("direct");
    }

    @Override
    Entry start(String app, Path work, Path certs) {
      return new Entry(app, null);
    }
  }

  /** HAProxy pair (configs in bench/peers/haproxy-*.cfg). */
  static final class HaproxyPair extends ProxyPair {
    private final Path peers;

    HaproxyPair(Path peers) {
      super("haproxy");
      this.peers = peers;
    }

    @Override
    Entry start(String app, Path work, Path certs) throws Exception {
      Map<String, String> v =
          Map.of(
              "CLIENT_LISTEN",
              "127.0.31.1:8080",
              "SERVER_LISTEN",
              "127.0.31.2:8443",
              "APP",
              app,
              "CERTS",
              certs.toString());
      for (String side : List.of("server", "client")) {
        Path cfg = work.resolve("haproxy-" + side + ".cfg");
        Files.writeString(cfg, render(peers.resolve("haproxy-" + side + ".cfg"), v));
        Process p =
            spawn(
                List.of("haproxy", "-db", "-f", cfg.toString()),
                work.resolve("haproxy-" + side + ".log"));
        awaitPort(
            side.equals("server") ? "127.0.31.2" : "127.0.31.1",
            side.equals("server") ? 8443 : 8080,
            p,
            Duration.ofSeconds(10));
      }
      return new Entry("127.0.31.1:8080", null);
    }
  }

  /** nginx pair (configs in bench/peers/nginx-*.conf). */
  static final class NginxPair extends ProxyPair {
    private final Path peers;

    NginxPair(Path peers) {
      super("nginx");
      this.peers = peers;
    }

    @Override
    Entry start(String app, Path work, Path certs) throws Exception {
      Map<String, String> v =
          Map.of(
              "CLIENT_LISTEN",
              "127.0.32.1:8080",
              "SERVER_LISTEN",
              "127.0.32.2:8443",
              "APP",
              app,
              "CERTS",
              certs.toString(),
              "RUN",
              work.toString());
      for (String side : List.of("server", "client")) {
        Path conf = work.resolve("nginx-" + side + ".conf");
        Files.writeString(conf, render(peers.resolve("nginx-" + side + ".conf"), v));
        Process p =
            spawn(
                List.of(
                    "nginx",
                    "-e",
                    work.resolve("nginx-" + side + ".stderr").toString(),
                    "-p",
                    work.toString(),
                    "-c",
                    conf.toString()),
                work.resolve("nginx-" + side + ".log"));
        awaitPort(
            side.equals("server") ? "127.0.32.2" : "127.0.32.1",
            side.equals("server") ? 8443 : 8080,
            p,
            Duration.ofSeconds(10));
      }
      return new Entry("127.0.32.1:8080", null);
    }
  }
}
