package dev.meshwork.meshctl.demo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Starts the demo's components as child processes and guarantees they all end with the demo: on
 * {@link #close()}, on Ctrl-C (a shutdown hook) and on any failure. Each process writes its output
 * to its own log file in the demo's work folder, which the demo names when something fails.
 *
 * <p>Thread-safe: start and close may come from the demo thread and the shutdown hook.
 */
final class ProcessSupervisor implements AutoCloseable {

  /** A started component. */
  record Child(String name, Process process, Path log) {}

  private final Deque<Child> children = new ArrayDeque<>();
  private final Thread hook = new Thread(this::close, "meshwork-demo-shutdown");
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
  private boolean closed;

  ProcessSupervisor() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Starts {@code command}, output to {@code log}. */
  synchronized Child start(String name, List<String> command, Path log) throws IOException {
    if (closed) {
      throw new IllegalStateException("demo is stopping");
    }
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    Child c = new Child(name, p, log);
    children.push(c);
    return c;
  }

  /**
   * Starts {@code command} with its stdout handed line by line to {@code lines} (stderr to {@code
   * log}); used for the caller, whose stdout is its stats stream.
   */
  synchronized Child startReading(
      String name, List<String> command, Path log, Consumer<String> lines) throws IOException {
    if (closed) {
      throw new IllegalStateException("demo is stopping");
    }
    Process p =
        new ProcessBuilder(command)
            .redirectError(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    Thread reader =
        Thread.ofPlatform()
            .daemon()
            .name("demo-" + name + "-stdout")
            .start(
                () -> {
                  try (var r = p.inputReader()) {
                    r.lines().forEach(lines);
                  } catch (IOException | java.io.UncheckedIOException ignored) {
                    // The process ended; the supervisor reports exits separately.
                  }
                });
    reader.setUncaughtExceptionHandler((t, e) -> {});
    Child c = new Child(name, p, log);
    children.push(c);
    return c;
  }

  /** Waits until {@code url} answers 200, or fails naming the component and its log. */
  void awaitHttpOk(Child child, String url, Duration timeout) throws DemoException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      ensureAlive(child);
      try {
        HttpResponse<Void> r =
            http.send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(1)).build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DemoException("interrupted while waiting for " + child.name());
      }
      sleep(100);
    }
    throw new DemoException(
        child.name()
            + " did not become ready at "
            + url
            + " within "
            + timeout.toSeconds()
            + "s; see "
            + child.log());
  }

  /** Waits until a TCP port accepts connections. */
  void awaitPort(Child child, int port, Duration timeout) throws DemoException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      ensureAlive(child);
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 300);
        return;
      } catch (IOException e) {
        sleep(100);
      }
    }
    throw new DemoException(
        child.name()
            + " did not listen on port "
            + port
            + " within "
            + timeout.toSeconds()
            + "s; see "
            + child.log());
  }

  void ensureAlive(Child child) throws DemoException {
    if (!child.process().isAlive()) {
      throw new DemoException(
          child.name()
              + " exited with code "
              + child.process().exitValue()
              + "; see "
              + child.log());
    }
  }

  /** True once {@link #close()} began: children dying now is the shutdown, not a failure. */
  synchronized boolean closing() {
    return closed;
  }

  /** The children that have died, for the live view's health line. */
  synchronized List<Child> dead() {
    List<Child> dead = new ArrayList<>();
    for (Child c : children) {
      if (!c.process().isAlive()) {
        dead.add(c);
      }
    }
    return dead;
  }

  /** SIGTERM to every child (newest first), then SIGKILL to what is left after a grace period. */
  @Override
  public void close() {
    List<Child> toStop;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      toStop = new ArrayList<>(children);
    }
    for (Child c : toStop) {
      c.process().descendants().forEach(ProcessHandle::destroy);
      c.process().destroy();
    }
    for (Child c : toStop) {
      try {
        if (!c.process().waitFor(5, TimeUnit.SECONDS)) {
          c.process().descendants().forEach(ProcessHandle::destroyForcibly);
          c.process().destroyForcibly().waitFor(2, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        c.process().destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    if (Thread.currentThread() != hook) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException alreadyShuttingDown) {
        // Called from within shutdown: the hook runs anyway and finds closed == true.
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
