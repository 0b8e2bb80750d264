package dev.meshwork.sidecar.identity;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A JSSE key manager presenting the current identity of a {@link CertificateSource}. Each handshake
 * reads the source once (alias = leaf serial), so a rotation applies to the next handshake while
 * connections already established keep the certificate they negotiated: no connection or call is
 * dropped by a rotation. Thread-safe.
 */
public final class CertificateSourceKeyManager extends X509ExtendedKeyManager {
  private static final int KEPT = 2;
  private final CertificateSource source;
  private final Map<String, WorkloadIdentity> chosen = new ConcurrentHashMap<>();

  public CertificateSourceKeyManager(CertificateSource source) {
    this.source = source;
  }

  private Optional<WorkloadIdentity> identityFor(String alias) {
    // JSSE asks for the chain and the key in separate calls; looking both up by the alias chosen
    // at the start of the handshake keeps them a pair even if a rotation lands in between.
    return alias == null ? Optional.empty() : Optional.ofNullable(chosen.get(alias));
  }

  private String alias() {
    Optional<WorkloadIdentity> current = source.current();
    if (current.isEmpty()) {
      return null;
    }
    String alias = current.get().leaf().getSerialNumber().toString(16);
    if (chosen.putIfAbsent(alias, current.get()) == null && chosen.size() > KEPT) {
      // Keep the few newest: older identities are only needed by handshakes already finished.
      chosen.keySet().removeIf(a -> !a.equals(alias) && chosen.size() > KEPT);
    }
    return alias;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    String alias = alias();
    return alias == null ? null : new String[] {alias};
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return alias();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return getClientAliases(keyType, issuers);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return alias();
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return alias();
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return alias();
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return identityFor(alias).map(i -> i.chain().toArray(X509Certificate[]::new)).orElse(null);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return identityFor(alias).map(WorkloadIdentity::key).orElse(null);
  }
}
