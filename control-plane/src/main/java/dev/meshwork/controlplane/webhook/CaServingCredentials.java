package dev.meshwork.controlplane.webhook;

import dev.meshwork.injector.server.TlsConfigException;
import dev.meshwork.injector.server.TlsCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import javax.annotation.concurrent.ThreadSafe;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook's serving certificate from the control plane's CA ({@code
 * EmbeddedCa::servingCredentials}). That method answers gRPC {@link ServerCredentials}; the webhook
 * is a plain Netty server, so the PEM chain and key are turned into a Netty {@link SslContext}.
 * When the CA hands out a key manager instead, the key manager owns rotation and is used as is.
 *
 * <p>Renewal: a certificate past half its lifetime is replaced by asking the CA again, on the next
 * connection. If that fails the current one keeps serving (and the failure is logged) until it
 * expires.
 */
@ThreadSafe
public final class CaServingCredentials implements TlsCredentials {
  private static final Logger log = LoggerFactory.getLogger(CaServingCredentials.class);

  /** The CA's way of issuing serving credentials, e.g. {@code EmbeddedCa::servingCredentials}. */
  @FunctionalInterface
  public interface Issuer {
    ServerCredentials issue() throws IOException;
  }

  private record Current(SslContext context, Instant renewAt) {}

  private final Issuer issuer;
  private final Clock clock;
  private volatile Current current;

  private CaServingCredentials(Issuer issuer, Clock clock) {
    this.issuer = issuer;
    this.clock = clock;
    this.current = load(); // fail at start-up, not on the first connection
  }

  /**
   * Issues the first certificate now.
   *
   * @throws TlsConfigException if the CA cannot issue one or its credentials are unusable
   */
  public static CaServingCredentials from(Issuer issuer, Clock clock) {
    return new CaServingCredentials(
        Objects.requireNonNull(issuer, "issuer"), Objects.requireNonNull(clock, "clock"));
  }

  @Override
  public SslContext serverContext() {
    Current c = current;
    if (clock.instant().isBefore(c.renewAt())) {
      return c.context();
    }
    synchronized (this) {
      if (current == c) {
        try {
          current = load();
          log.info("webhook serving certificate renewed; next renewal at {}", current.renewAt());
        } catch (TlsConfigException e) {
          // Try again in a minute rather than on every connection.
          current = new Current(c.context(), clock.instant().plus(Duration.ofMinutes(1)));
          log.warn(
              "webhook certificate renewal failed, serving the current one: {}", e.getMessage());
        }
      }
      return current.context();
    }
  }

  private Current load() {
    ServerCredentials issued;
    try {
      issued = issuer.issue();
    } catch (IOException | RuntimeException e) {
      throw new TlsConfigException("the CA could not issue the webhook certificate", e);
    }
    if (!(issued instanceof TlsServerCredentials tls)) {
      throw new TlsConfigException(
          "the CA returned " + issued.getClass().getSimpleName() + ", not TLS credentials", null);
    }
    try {
      if (tls.getKeyManagers() != null && !tls.getKeyManagers().isEmpty()) {
        // The key manager's owner rotates it; this context never needs rebuilding.
        SslContext ctx =
            SslContextBuilder.forServer(tls.getKeyManagers().getFirst())
                .protocols("TLSv1.3", "TLSv1.2")
                .build();
        return new Current(ctx, Instant.MAX);
      }
      byte[] chain = tls.getCertificateChain();
      byte[] key = tls.getPrivateKey();
      if (chain == null || key == null) {
        throw new TlsConfigException("the CA's credentials carry no certificate and key", null);
      }
      SslContext ctx =
          SslContextBuilder.forServer(
                  new ByteArrayInputStream(chain), new ByteArrayInputStream(key))
              .protocols("TLSv1.3", "TLSv1.2")
              .build();
      // Renew once half of the validity left at issuance has passed.
      Instant now = clock.instant();
      Instant notAfter = leaf(chain).getNotAfter().toInstant();
      return new Current(ctx, now.plus(Duration.between(now, notAfter).dividedBy(2)));
    } catch (SSLException | CertificateException | IllegalArgumentException e) {
      throw new TlsConfigException(
          "the CA's webhook certificate is unusable: " + e.getMessage(), e);
    }
  }

  private static X509Certificate leaf(byte[] chainPem) throws CertificateException {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(chainPem));
  }
}
