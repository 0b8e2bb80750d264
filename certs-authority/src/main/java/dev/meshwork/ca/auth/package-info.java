/**
 * Who is calling the CA: turns a bearer token into the SPIFFE identity it proves. In a cluster that
 * is {@link dev.meshwork.ca.auth.KubernetesTokenReviewVerifier} (TokenReview, audience {@code
 * meshwork-ca}); {@link dev.meshwork.ca.auth.StaticIdentityVerifier} serves local runs only.
 *
 * <p>Threading: verifiers are thread-safe and may block (one API call per verification); the CSR
 * service calls them on gRPC's executor.
 */
package dev.meshwork.ca.auth;
