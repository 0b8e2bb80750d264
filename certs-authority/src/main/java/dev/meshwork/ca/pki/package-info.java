/**
 * X.509 building blocks on BouncyCastle: key generation, PEM coding, the root and intermediate
 * certificates, workload (SPIFFE X.509-SVID) and serving leaf certificates, and CSR inspection.
 *
 * <p>Threading: every class here is stateless or immutable and safe to call from any thread.
 */
package dev.meshwork.ca.pki;
