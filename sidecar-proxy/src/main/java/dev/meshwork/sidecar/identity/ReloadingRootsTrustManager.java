package dev.meshwork.sidecar.identity;

import java.net.Socket;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.annotation.concurrent.ThreadSafe;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The JDK's standard PKIX trust manager (host name checks included) over the roots of a {@link
 * TrustBundleFile}, rebuilt when the file's roots change. For the sidecar's connections to the
 * control plane (ADS on 15012): its serving certificate moves to a new root during a root rotation,
 * and a channel that trusted only the roots read at start-up would fail to reconnect afterwards.
 */
@ThreadSafe
public final class ReloadingRootsTrustManager extends X509ExtendedTrustManager {
  private record Built(List<X509Certificate> roots, X509ExtendedTrustManager delegate) {}

  private final TrustBundleFile roots;
  private final AtomicReference<Built> built = new AtomicReference<>();

  public ReloadingRootsTrustManager(TrustBundleFile roots) {
    this.roots = roots;
  }

  private X509ExtendedTrustManager delegate() throws CertificateException {
    List<X509Certificate> now = roots.get();
    Built b = built.get();
    if (b != null && b.roots().equals(now)) {
      return b.delegate();
    }
    if (now.isEmpty()) {
      throw new CertificateException("no trusted roots: " + roots.path() + " was never readable");
    }
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      for (int i = 0; i < now.size(); i++) {
        store.setCertificateEntry("root-" + i, now.get(i));
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      X509ExtendedTrustManager delegate = (X509ExtendedTrustManager) factory.getTrustManagers()[0];
      built.set(new Built(now, delegate));
      return delegate;
    } catch (KeyStoreException | NoSuchAlgorithmException | java.io.IOException e) {
      throw new CertificateException("cannot build a trust store from " + roots.path(), e);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate().checkServerTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate().checkServerTrusted(chain, authType, socket);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate().checkServerTrusted(chain, authType, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    delegate().checkClientTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate().checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate().checkClientTrusted(chain, authType, engine);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return roots.get().toArray(X509Certificate[]::new);
  }
}
