package dev.meshwork.bench.dataplane;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Where the numbers were taken: they mean little without it. */
public record Machine(int cores, String kernel, String jdk, String cpu) {

  static Machine current(Path home) {
    String cpu = "unknown";
    try {
      cpu =
          Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
              .filter(l -> l.startsWith("model name"))
              .map(l -> l.substring(l.indexOf(':') + 1).trim())
              .findFirst()
              .orElse("unknown");
    } catch (Exception ignored) {
      // not Linux: leave unknown
    }
    return new Machine(
        machineCores(),
        System.getProperty("os.name") + " " + System.getProperty("os.version"),
        Runtime.version().toString(),
        cpu);
  }

  /**
   * The machine's online cores, not this JVM's: bench/run pins the bench JVM to one core, and
   * availableProcessors() follows that affinity.
   */
  private static int machineCores() {
    try {
      long n =
          Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
              .filter(l -> l.startsWith("processor"))
              .count();
      if (n > 0) {
        return (int) n;
      }
    } catch (Exception ignored) {
      // not Linux: fall back to what the JVM sees
    }
    return Runtime.getRuntime().availableProcessors();
  }

  static String commit(Path home) {
    try {
      Process p =
          new ProcessBuilder("git", "-C", home.toString(), "rev-parse", "--short", "HEAD").start();
      p.waitFor(5, TimeUnit.SECONDS);
      return new String(p.getInputStream().readAllBytes()).trim();
    } catch (Exception e) {
      return "unknown";
    }
  }
}
