package dev.meshwork.injector.server;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLException;

/**
 * The webhook's serving credentials, asked once per new connection. Implementations must be
 * thread-safe; returning a new context rotates the certificate for every later connection.
 */
@FunctionalInterface
public interface TlsCredentials {

  /** The server context for the next connection. */
  SslContext serverContext();

  /**
   * PEM files (certificate chain, PKCS#8 key), reloaded when either file changes on disk, e.g. a
   * Secret volume updated by the kubelet.
   */
  static TlsCredentials fromPemFiles(Path certChain, Path privateKey) {
    return new PemFileCredentials(certChain, privateKey);
  }

  /**
   * A key manager the caller owns. The control plane's CA passes one that serves its current
   * webhook certificate, so rotation needs nothing from this server.
   */
  static TlsCredentials fromKeyManager(KeyManager keyManager) {
    SslContext context;
    try {
      context = SslContextBuilder.forServer(keyManager).protocols("TLSv1.3", "TLSv1.2").build();
    } catch (SSLException e) {
      throw new TlsConfigException("cannot build a TLS server context from the key manager", e);
    }
    return () -> context;
  }
}
