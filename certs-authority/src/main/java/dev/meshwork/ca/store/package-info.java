/**
 * Where the CA keeps its keys and certificates between restarts: a Kubernetes Secret in {@code
 * meshwork-system} in a cluster, a private directory for {@code meshctl demo}, memory in tests.
 * {@link dev.meshwork.ca.store.CaStateCodec} fixes the key names, shared by all three and by
 * operator-supplied material (Istio's {@code cacerts} names, so an existing plug-in CA Secret
 * works).
 *
 * <p>Threading: stores are called by the CA under its own lock; each implementation is safe for one
 * caller at a time and documents what it does when several processes share it.
 */
package dev.meshwork.ca.store;
