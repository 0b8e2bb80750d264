/**
 * The CA hosted in the control plane process, like istiod's: it chooses where the CA keeps its root
 * (a Kubernetes Secret, or a folder for local runs), how callers prove who they are (TokenReview,
 * or a fixed token file for {@code meshctl demo}), serves the CSR service on the ADS port, issues
 * and renews the serving certificate of 15012 and 15017, runs the CA's upkeep (rotation phases,
 * intermediate renewal; the leader maintains, followers reload) and distributes the trust bundle
 * (ConfigMap per meshed namespace, the injector webhook's caBundle).
 *
 * <p>Threading: {@link dev.meshwork.controlplane.ca.EmbeddedCa} is thread-safe; its upkeep runs on
 * one thread of its own, the distribution's informers on fabric8's threads.
 */
package dev.meshwork.controlplane.ca;
