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
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.name") + " " + System.getProperty("os.version"),
        Runtime.version().toString(),
        cpu);
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
