/**
 * TLS for the data path: builds Netty client and server {@code SslContext}s (ALPN h2) from the
 * workload certificate and trust bundle delivered by the identity layer. Until a certificate is
 * available, the suppliers here return null and mTLS clusters are unreachable.
 *
 * <p>Threading: thread-safe; contexts are rebuilt when the material changes and swapped atomically.
 */
package dev.meshwork.sidecar.tls;
