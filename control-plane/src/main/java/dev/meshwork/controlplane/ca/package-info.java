/**
 * The CA hosted in the control plane process, like istiod's: it chooses where the CA keeps its root
 * (a Kubernetes Secret, or a folder for local runs), how callers prove who they are (TokenReview,
 * or a fixed token file for {@code meshctl demo}), serves the CSR service on the ADS port, and
 * issues the control plane's own TLS serving certificate.
 *
 * <p>Threading: {@link dev.meshwork.controlplane.ca.EmbeddedCa} is built once at start-up and is
 * thread-safe afterwards (the certificates-authority classes it wires are).
 */
package dev.meshwork.controlplane.ca;
