package dev.meshwork.ca.server;

import dev.meshwork.ca.issue.ServingCertificate;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Presents the current serving certificate; {@link #swap} affects new handshakes only. The alias is
 * the leaf's serial, and the previous certificate is kept, so a handshake that chose its alias just
 * before a swap still gets a key and chain that belong together. Thread-safe.
 */
final class ServingKeyManager extends X509ExtendedKeyManager {
  private final AtomicReference<ServingCertificate> current;
  private final AtomicReference<ServingCertificate> previous = new AtomicReference<>();

  ServingKeyManager(ServingCertificate initial) {
    this.current = new AtomicReference<>(initial);
  }

  ServingCertificate current() {
    return current.get();
  }

  void swap(ServingCertificate next) {
    previous.set(current.get());
    current.set(next);
  }

  private static String alias(ServingCertificate c) {
    return c.certificate().leaf().getSerialNumber().toString(16);
  }

  private ServingCertificate byAlias(String alias) {
    ServingCertificate old = previous.get();
    return old != null && alias(old).equals(alias) ? old : current.get();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return new String[] {alias(current.get())};
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return alias(current.get());
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return alias(current.get());
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return byAlias(alias).certificate().chain().toArray(X509Certificate[]::new);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return byAlias(alias).key();
  }
}
