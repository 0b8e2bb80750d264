/**
 * Pushes the CA's public material into Kubernetes with fabric8: the trust bundle ConfigMap in every
 * meshed namespace, and the caBundle of the sidecar injector's MutatingWebhookConfiguration.
 *
 * <p>Threading: both classes are thread-safe; their methods block on API calls and are meant to run
 * on the control plane's background executor (they are {@link
 * dev.meshwork.ca.issue.TrustBundleListener}s, called on the rotating thread).
 */
package dev.meshwork.ca.k8s;
