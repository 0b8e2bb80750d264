package dev.meshwork.e2e.kube;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds a test peer that a {@code .ci/install-*.sh} script built into the cache: {@code
 * $MESHWORK_CACHE/<folder>/<hash of the script>/<binary>} (cache default {@code
 * ~/.cache/meshwork}), the newest build when several are there; an environment variable naming the
 * binary wins.
 */
public final class CachedTool {
  private CachedTool() {}

  /**
   * @param envVar names the binary directly when set (e.g. {@code MESHWORK_OTELCOL})
   * @param folder the install script's folder under the cache (e.g. {@code otelcol})
   * @param binary the file name inside each build folder
   */
  public static Optional<Path> find(String envVar, String folder, String binary)
      throws IOException {
    String env = System.getenv(envVar);
    if (env != null && !env.isBlank()) {
      return Optional.of(Path.of(env)).filter(Files::isExecutable);
    }
    Path cache =
        Path.of(
                System.getenv()
                    .getOrDefault(
                        "MESHWORK_CACHE", System.getProperty("user.home") + "/.cache/meshwork"))
            .resolve(folder);
    if (!Files.isDirectory(cache)) {
      return Optional.empty();
    }
    try (Stream<Path> builds = Files.list(cache)) {
      return builds
          .map(d -> d.resolve(binary))
          .filter(Files::isExecutable)
          .max(Comparator.comparing(p -> p.toFile().lastModified()));
    }
  }
}
