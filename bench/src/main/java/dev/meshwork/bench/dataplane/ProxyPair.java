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

  /** How long close() waits for a process after SIGTERM before killing it. */
  Duration stopGrace = Duration.ofSeconds(5);

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
      if (!p.waitFor(stopGrace.toMillis(), TimeUnit.MILLISECONDS)) {
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

  /**
   * A pair of an off-the-shelf proxy configured from templates in bench/peers: the server side
   * listens on {@code <prefix>.2:8443} (mTLS in), the client side on {@code <prefix>.1:8080}.
   */
  abstract static class PeerPair extends ProxyPair {
    private final Path peers;
    private final String ip;
    private final String extension;

    PeerPair(String name, Path peers, String ip, String extension) {
      super(name);
      this.peers = peers;
      this.ip = ip;
      this.extension = extension;
    }

    /** The command that runs one side from its rendered config file. */
    abstract List<String> command(Path config, Path work, String side);

    @Override
    Entry start(String app, Path work, Path certs) throws Exception {
      String client = ip + ".1:8080";
      String server = ip + ".2:8443";
      Map<String, String> values =
          Map.of(
              "CLIENT_LISTEN", client,
              "SERVER_LISTEN", server,
              "APP", app,
              "CERTS", certs.toString(),
              "RUN", work.toString());
      // Server side first, so the client side's first connection finds it.
      for (String side : List.of("server", "client")) {
        String file = name + "-" + side + "." + extension;
        Path config = work.resolve(file);
        Files.writeString(config, render(peers.resolve(file), values));
        Process p = spawn(command(config, work, side), work.resolve(name + "-" + side + ".log"));
        String listen = side.equals("server") ? server : client;
        awaitPort(
            ip + (side.equals("server") ? ".2" : ".1"),
            Integer.parseInt(listen.substring(listen.lastIndexOf(':') + 1)),
            p,
            Duration.ofSeconds(10));
      }
      return new Entry(client, null);
    }
  }

  /** HAProxy pair (configs in bench/peers/haproxy-*.cfg), in the foreground with -db. */
  static final class HaproxyPair extends PeerPair {
    HaproxyPair(Path peers) {
      super("haproxy", peers, "127.0.31", "cfg");
    }

    @Override
    List<String> command(Path config, Path work, String side) {
      return List.of("haproxy", "-db", "-f", config.toString());
    }
  }

  /**
   * nginx pair (configs in bench/peers/nginx-*.conf); master and worker both count as the proxy.
   */
  static final class NginxPair extends PeerPair {
    NginxPair(Path peers) {
      super("nginx", peers, "127.0.32", "conf");
    }

    @Override
    List<String> command(Path config, Path work, String side) {
      return List.of(
          "nginx",
          "-e",
          work.resolve("nginx-" + side + ".stderr").toString(),
          "-p",
          work.toString(),
          "-c",
          config.toString());
    }
  }
}
