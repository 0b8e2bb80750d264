package dev.meshwork.controlplane.translate;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Collection;

/**
 * TLS contexts that name certificate provider instances, never carry keys ({@code
 * docs/xds-contract.md}, "TLS material").
 */
final class Tls {
  private Tls() {}

  private static final CertificateProviderPluginInstance DEFAULT =
      CertificateProviderPluginInstance.newBuilder()
          .setInstanceName(Names.CERT_PROVIDER_INSTANCE)
          .build();

  /**
   * @param exactSans SPIFFE IDs the peer must present, or empty
   * @param prefixSan a SAN prefix the peer must present (server side: the trust domain), or null
   */
  static CommonTlsContext common(Collection<String> exactSans, String prefixSan) {
    CertificateValidationContext.Builder validation =
        CertificateValidationContext.newBuilder().setCaCertificateProviderInstance(DEFAULT);
    exactSans.forEach(
        san -> validation.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san)));
    if (prefixSan != null) {
      validation.addMatchSubjectAltNames(StringMatcher.newBuilder().setPrefix(prefixSan));
    }
    return CommonTlsContext.newBuilder()
        .setTlsCertificateProviderInstance(DEFAULT)
        .setValidationContext(validation)
        .build();
  }
}
