package dev.meshwork.controlplane.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.ca.issue.IssuedCertificate;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.Pem;
import dev.meshwork.controlplane.ca.EmbeddedCa;
import dev.meshwork.injector.server.TlsConfigException;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PEM certificate from the CA is renewed at half its lifetime, never before; a key manager from
 * the CA is used as is (its owner renews it).
 */
class CaServingCredentialsTest {

  /** A clock the test moves. */
  private static final class MovableClock extends Clock {
    private volatile Instant now = Instant.now();

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }
  }

  /**
   * Credentials as PEM chain and key (what a CA without its own key manager hands out), for a
   * 30-day certificate from a real CA.
   */
  private static ServerCredentials pemCredentials(EmbeddedCa ca) throws IOException {
    KeyPair keys = KeyPairs.generate("secp256r1");
    IssuedCertificate cert =
        ca.authority()
            .issueServing(keys.getPublic(), EmbeddedCa.SERVING_NAMES, Duration.ofDays(30));
    return TlsServerCredentials.newBuilder()
        .keyManager(
            new ByteArrayInputStream(
                String.join("", cert.chainPem()).getBytes(StandardCharsets.UTF_8)),
            new ByteArrayInputStream(
                Pem.encodePrivateKey(keys.getPrivate()).getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  @Test
  void pemCredentialsAreRenewedFromTheCaPastHalfTheirLifetime(@TempDir Path dir) throws Exception {
    Path tokens = dir.resolve("tokens.properties");
    Files.writeString(tokens, "tok=demo/caller\n");
    EmbeddedCa ca = EmbeddedCa.local(dir.resolve("ca"), tokens, "cluster.local", CaMetrics.NOOP);
    AtomicInteger issued = new AtomicInteger();
    MovableClock clock = new MovableClock();
    CaServingCredentials credentials =
        CaServingCredentials.from(
            () -> {
              issued.incrementAndGet();
              return pemCredentials(ca);
            },
            clock);
    var first = credentials.serverContext();
    assertThat(credentials.serverContext()).isSameAs(first);
    assertThat(issued).hasValue(1);

    clock.advance(Duration.ofDays(14));
    assertThat(credentials.serverContext()).isSameAs(first);
    clock.advance(Duration.ofDays(2));
    var renewed = credentials.serverContext();
    assertThat(renewed).isNotSameAs(first);
    assertThat(credentials.serverContext()).isSameAs(renewed);
    assertThat(issued).hasValue(2);
  }

  @Test
  void aCaThatCannotIssueFailsAtStartWithTheReason() {
    assertThatThrownBy(
            () ->
                CaServingCredentials.from(
                    () -> {
                      throw new IOException("meshwork-ca Secret unreadable");
                    },
                    Clock.systemUTC()))
        .isInstanceOf(TlsConfigException.class)
        .hasMessageContaining("could not issue")
        .rootCause()
        .hasMessageContaining("meshwork-ca Secret unreadable");
  }
}
