package dev.meshwork.bench.dataplane;

import dev.meshwork.meshctl.demo.apps.GreeterApp;
import io.grpc.Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The training run of Java 25's AOT cache (JEP 483/514/515): a Meshwork pair started with the
 * shipped flags plus {@code -XX:AOTCacheOutput} on the client-side sidecar, some calls through it,
 * then SIGTERM; the JVM writes the cache as it exits. Later sidecars started with {@code
 * -XX:AOTCache} find their classes loaded and linked, with profiles, from the start.
 *
 * <p>The cache is only valid for the same JDK, the same jar files (paths and times) and the same GC
 * and header flags; the JVM ignores (and says so) a cache that does not match.
 */
final class AotTraining {
  private AotTraining() {}

  /** Trains {@code aot} and returns what happened, in a few words for the report. */
  static String train(Path aot, Path sidecarJar, List<String> flags, Ghz ghz, Path work, Path certs)
      throws Exception {
    if (upToDate(aot, sidecarJar)) {
      return "AOT cache of "
          + Files.size(aot) / (1024 * 1024)
          + " MiB reused (newer than the jars)";
    }
    Files.deleteIfExists(aot);
    Files.createDirectories(aot.getParent());
    Path dir = Files.createDirectories(work.resolve("aot-training"));
    int port;
    try (var s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Server greeter = GreeterApp.start("127.0.0.1", port, "greeter-0", "v1");
    MeshworkPair pair =
        new MeshworkPair(
            "aot-training",
            sidecarJar,
            flags,
            List.of(),
            List.of("-XX:AOTCacheOutput=" + aot.toAbsolutePath()));
    // Writing the cache happens at exit and takes a while on a busy machine.
    pair.stopGrace = Duration.ofSeconds(120);
    long t0 = System.nanoTime();
    try (pair) {
      ProxyPair.Entry entry = pair.start("127.0.0.1:" + port, dir, certs);
      ghz.run(entry.target(), entry.authority(), 500, Duration.ofSeconds(3), dir);
    } finally {
      greeter.shutdownNow();
    }
    String took = String.format(java.util.Locale.ROOT, "%.0f s", (System.nanoTime() - t0) / 1e9);
    if (!Files.isRegularFile(aot)) {
      return "AOT training wrote no cache in " + took + " (log: " + dir + ")";
    }
    return "AOT cache of " + Files.size(aot) / (1024 * 1024) + " MiB trained in " + took;
  }

  /** True when {@code aot} is newer than the sidecar jar and every jar in its lib/ folder. */
  private static boolean upToDate(Path aot, Path sidecarJar) throws java.io.IOException {
    if (!Files.isRegularFile(aot)) {
      return false;
    }
    var cache = Files.getLastModifiedTime(aot);
    if (Files.getLastModifiedTime(sidecarJar).compareTo(cache) > 0) {
      return false;
    }
    try (var libs = Files.list(sidecarJar.resolveSibling("lib"))) {
      return libs.allMatch(
          l -> {
            try {
              return Files.getLastModifiedTime(l).compareTo(cache) <= 0;
            } catch (java.io.IOException e) {
              return false;
            }
          });
    }
  }
}
