/**
 * The certificate authority proper: loads or creates its material through a {@link
 * dev.meshwork.ca.store.CaStore}, issues workload and serving certificates from the active
 * intermediate, and rotates the root with an overlap during which both roots are trusted.
 *
 * <p>Threading: {@link dev.meshwork.ca.issue.CertificateAuthority} is thread-safe. Issuing reads an
 * immutable {@link dev.meshwork.ca.pki.CaState} from an atomic reference (no lock); rotation is
 * serialized by a lock and notifies {@link dev.meshwork.ca.issue.TrustBundleListener}s on the
 * rotating thread.
 */
package dev.meshwork.ca.issue;
