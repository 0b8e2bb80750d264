/**
 * {@code security.meshwork.dev/v1alpha1}: PeerAuthentication (mTLS mode) and AuthorizationPolicy.
 * Spec types are immutable records; the CRD schemas are in {@code manifests/crds/}.
 */
package dev.meshwork.api.security.v1alpha1;
