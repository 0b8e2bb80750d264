package dev.meshwork.ca.issue;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Told when the set of trusted roots changes (root rotation starts or an old root retires), and
 * once on registration with the current set. Called on the thread that changed it; must not block
 * for long and must not throw (a throw is logged and ignored).
 */
@FunctionalInterface
public interface TrustBundleListener {
  void onTrustBundle(List<X509Certificate> roots);
}
