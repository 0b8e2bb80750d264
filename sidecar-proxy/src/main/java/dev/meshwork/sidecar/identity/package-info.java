/**
 * The workload's own identity and the check of its peers' identities.
 *
 * <ul>
 *   <li>{@link dev.meshwork.sidecar.identity.RotatingCertificateSource}: generates the P-256 key in
 *       memory, gets a certificate from the CA ({@link dev.meshwork.sidecar.identity.CaClient}),
 *       renews at about half of its lifetime with jitter, retries with backoff while the CA is
 *       down, and hands each new {@link dev.meshwork.sidecar.identity.WorkloadIdentity} to
 *       listeners. Ready once the first certificate is in.
 *   <li>{@link dev.meshwork.sidecar.identity.CertificateSourceKeyManager} and {@link
 *       dev.meshwork.sidecar.identity.SpiffeTrustManager}: JSSE managers that read the current
 *       identity and trust bundle on every handshake, so a rotation applies to new connections
 *       without rebuilding the SslContext or touching established ones.
 *   <li>{@link dev.meshwork.sidecar.identity.SpiffePeerVerifier}: chain to the trust bundle, then
 *       the peer's SPIFFE ID from its URI SAN; usable by TLS servers and clients alike. The trust
 *       manager logs every rejected peer with the reason (at most one line a second).
 *   <li>{@link dev.meshwork.sidecar.identity.TrustBundleFile}: the mounted trust bundle ConfigMap
 *       (every root, two during a rotation), re-read every 10 seconds, last good kept; the trust
 *       manager prefers it to the roots of the CSR answer.
 * </ul>
 *
 * <p>Threading: the certificate source runs on one scheduler thread of its own and calls listeners
 * there; everything else is immutable or reads atomic references, and is safe from Netty event
 * loops. The private key never leaves process memory: it is not written, logged or sent.
 */
package dev.meshwork.sidecar.identity;
