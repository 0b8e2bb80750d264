package dev.meshwork.e2e.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where the harness finds the control-plane binaries that {@code .ci/install-k8s.sh} builds: {@code
 * $MESHWORK_K8S_BIN}, else {@code $MESHWORK_CACHE/k8s/<version>/bin} (cache default {@code
 * ~/.cache/meshwork}), with the version read from {@code e2e/k8s-tools/go.mod}.
 */
public record KubeBinaries(Path dir, String version) {
  public static final List<String> NAMES =
      List.of("etcd", "kube-apiserver", "kube-controller-manager");

  /** Locates the repository root by walking up from the working directory to {@code manifests/}. */
  public static Path repoRoot() {
    Path p = Path.of("").toAbsolutePath();
    for (Path d = p; d != null; d = d.getParent()) {
      if (Files.isDirectory(d.resolve("manifests/gateway-api"))
          && Files.isRegularFile(d.resolve("e2e/k8s-tools/go.mod"))) {
        return d;
      }
    }
    throw new IllegalStateException("no Meshwork checkout (manifests/, e2e/k8s-tools) above " + p);
  }

  /** The binaries at their pinned version, present or not. */
  public static KubeBinaries pinned() {
    String version = pinnedVersion(repoRoot().resolve("e2e/k8s-tools/go.mod"));
    String override = System.getenv("MESHWORK_K8S_BIN");
    if (override != null && !override.isBlank()) {
      return new KubeBinaries(Path.of(override), version);
    }
    String cache = System.getenv("MESHWORK_CACHE");
    Path cacheDir =
        cache != null && !cache.isBlank()
            ? Path.of(cache)
            : Path.of(System.getProperty("user.home"), ".cache", "meshwork");
    return new KubeBinaries(cacheDir.resolve("k8s").resolve(version).resolve("bin"), version);
  }

  static String pinnedVersion(Path goMod) {
    try {
      Optional<String> v =
          Files.readAllLines(goMod).stream()
              .map(String::trim)
              .filter(l -> l.startsWith("k8s.io/kubernetes v"))
              .map(l -> l.split("\\s+")[1])
              .findFirst();
      return v.orElseThrow(() -> new IllegalStateException("k8s.io/kubernetes not in " + goMod));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path etcd() {
    return dir.resolve("etcd");
  }

  public Path kubeApiServer() {
    return dir.resolve("kube-apiserver");
  }

  public Path kubeControllerManager() {
    return dir.resolve("kube-controller-manager");
  }

  /** The binaries that are not there (empty when all are). */
  public List<String> missing() {
    return NAMES.stream().filter(n -> !Files.isExecutable(dir.resolve(n))).toList();
  }

  /** Fails or skips (see {@link Prerequisites}) unless all binaries are present. */
  public KubeBinaries require() {
    List<String> missing = missing();
    Prerequisites.require(
        missing.isEmpty(),
        "Kubernetes "
            + version
            + " binaries "
            + missing
            + " not found in "
            + dir
            + "; build them once with: bash .ci/install-k8s.sh");
    return this;
  }
}
