/**
 * The CSR service ({@code meshwork.ca.v1alpha1.CertificateService}) as a grpc-java service the
 * control plane adds to its TLS server on 15012: reads the bearer token, asks an {@link
 * dev.meshwork.ca.auth.IdentityVerifier} who it proves, and signs only a CSR for that identity.
 * Every status code is chosen in {@link dev.meshwork.ca.grpc.CertificateServiceImpl} alone.
 *
 * <p>Threading: the service is stateless and thread-safe; calls run on the server's executor and
 * may block on the TokenReview call.
 */
package dev.meshwork.ca.grpc;
