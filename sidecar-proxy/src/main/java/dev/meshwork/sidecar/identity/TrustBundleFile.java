package dev.meshwork.sidecar.identity;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh trust bundle as the pod sees it: the ConfigMap {@code meshwork-trust-bundle} mounted at
 * {@link dev.meshwork.api.MeshConstants#TRUST_BUNDLE_PATH} (every trusted root, two during a root
 * rotation), re-read every {@code period}. The kubelet replaces a mounted ConfigMap by swapping a
 * symlink, which file watches miss; re-reading a few kilobytes is cheap and never misses.
 *
 * <p>{@link #get()} is what the TLS trust manager reads on every handshake, so a new root is
 * trusted, and a dropped one distrusted, from the next handshake on; established connections are
 * untouched. A missing, empty or malformed file keeps the last good bundle (logged once per
 * change), so a bad write never leaves the sidecar trusting nothing.
 *
 * <p>Threading: one daemon thread of its own re-reads; {@link #get()} reads an atomic reference.
 */
@ThreadSafe
public final class TrustBundleFile implements Supplier<List<X509Certificate>>, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TrustBundleFile.class);

  /** Default re-read period: well inside the kubelet's own ConfigMap sync delay (about 1 min). */
  public static final Duration DEFAULT_PERIOD = Duration.ofSeconds(10);

  private record Loaded(String pem, List<X509Certificate> roots) {}

  private final Path file;
  private final AtomicReference<Loaded> current =
      new AtomicReference<>(new Loaded(null, List.of()));
  private final AtomicReference<String> lastProblem = new AtomicReference<>();
  private ScheduledExecutorService rereader;

  private TrustBundleFile(Path file) {
    this.file = file;
  }

  /** Reads {@code file} once now (a failure is logged, see {@link #reload}), without re-reading. */
  public static TrustBundleFile readOnce(Path file) {
    TrustBundleFile bundle = new TrustBundleFile(file);
    bundle.reload();
    return bundle;
  }

  /** Reads {@code file} now and then every {@code period} until {@link #close()}. */
  public static TrustBundleFile watch(Path file, Duration period) {
    TrustBundleFile bundle = readOnce(file);
    bundle.rereader =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("meshwork-trust-bundle").daemon().unstarted(r));
    bundle.rereader.scheduleWithFixedDelay(
        bundle::reload, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    return bundle;
  }

  /** The roots of the last good read; empty if the file was never readable. */
  @Override
  public List<X509Certificate> get() {
    return current.get().roots();
  }

  public Path path() {
    return file;
  }

  /**
   * Reads the file now.
   *
   * @return true if the trusted roots changed
   */
  public boolean reload() {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      problem("cannot read trust bundle " + file + ": " + e);
      return false;
    }
    Loaded before = current.get();
    if (pem.equals(before.pem())) {
      return false;
    }
    List<X509Certificate> roots;
    try {
      roots = parse(pem);
    } catch (CertificateException e) {
      problem("trust bundle " + file + " is malformed (" + e.getMessage() + ")");
      return false;
    }
    if (roots.isEmpty()) {
      problem("trust bundle " + file + " holds no certificate");
      return false;
    }
    current.set(new Loaded(pem, roots));
    lastProblem.set(null);
    log.info(
        "trust bundle {} loaded: {} root(s) {}",
        file,
        roots.size(),
        roots.stream().map(r -> r.getSubjectX500Principal().getName()).toList());
    return !roots.equals(before.roots());
  }

  private void problem(String message) {
    // Once per distinct problem: a file missing for hours must not log every period.
    if (!message.equals(lastProblem.getAndSet(message))) {
      log.warn("{}; keeping the {} root(s) trusted so far", message, current.get().roots().size());
    }
  }

  private static List<X509Certificate> parse(String pem) throws CertificateException {
    List<X509Certificate> roots = new ArrayList<>();
    for (var cert :
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
      roots.add((X509Certificate) cert);
    }
    return List.copyOf(roots);
  }

  @Override
  public void close() {
    if (rereader != null) {
      rereader.shutdownNow();
    }
  }
}
