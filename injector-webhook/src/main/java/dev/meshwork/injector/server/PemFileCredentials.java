package dev.meshwork.injector.server;

import com.google.errorprone.annotations.ThreadSafe;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serving credentials from PEM files, rebuilt when a file's modification time or size changes. A
 * failed reload keeps the last good context (and logs why), so a half-written file never takes the
 * webhook down.
 */
@ThreadSafe
final class PemFileCredentials implements TlsCredentials {
  private static final Logger log = LoggerFactory.getLogger(PemFileCredentials.class);

  private record Loaded(String stamp, SslContext context) {}

  private final Path cert;
  private final Path key;
  private volatile Loaded loaded;

  PemFileCredentials(Path cert, Path key) {
    this.cert = Objects.requireNonNull(cert, "cert");
    this.key = Objects.requireNonNull(key, "key");
    this.loaded = load(stamp()); // fail fast at start-up
  }

  @Override
  public SslContext serverContext() {
    Loaded current = loaded;
    String stamp;
    try {
      stamp = stamp();
    } catch (TlsConfigException e) {
      log.warn("tls files unreadable, keeping the last good certificate: {}", e.getMessage());
      return current.context();
    }
    if (stamp.equals(current.stamp())) {
      return current.context();
    }
    synchronized (this) {
      if (!stamp.equals(loaded.stamp())) {
        try {
          loaded = load(stamp);
          log.info("tls certificate reloaded from {}", cert);
        } catch (TlsConfigException e) {
          log.warn("tls reload failed, keeping the last good certificate: {}", e.getMessage());
          loaded = new Loaded(stamp, loaded.context());
        }
      }
      return loaded.context();
    }
  }

  private String stamp() {
    try {
      FileTime c = Files.getLastModifiedTime(cert);
      FileTime k = Files.getLastModifiedTime(key);
      return c.toMillis() + ":" + Files.size(cert) + ":" + k.toMillis() + ":" + Files.size(key);
    } catch (IOException e) {
      throw new TlsConfigException("cannot read " + cert + " or " + key, e);
    }
  }

  private Loaded load(String stamp) {
    try {
      SslContext ctx =
          SslContextBuilder.forServer(cert.toFile(), key.toFile())
              .protocols("TLSv1.3", "TLSv1.2")
              .build();
      return new Loaded(stamp, ctx);
    } catch (IOException | IllegalArgumentException e) {
      throw new TlsConfigException(
          "cannot build TLS context from cert " + cert + " and key " + key + ": " + e.getMessage(),
          e);
    }
  }
}
