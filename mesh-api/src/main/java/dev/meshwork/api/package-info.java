/**
 * The shared vocabulary of Meshwork: constants from the architecture contract ({@link
 * dev.meshwork.api.MeshConstants}), workload identity ({@link dev.meshwork.api.SpiffeId}), the mesh
 * CRDs (subpackages {@code security.v1alpha1} and {@code networking.v1alpha1}) and the CA's gRPC
 * API (generated into {@code ca.v1alpha1}). Everything here is an immutable value or a plain data
 * class; there is no behaviour that needs a thread.
 */
package dev.meshwork.api;
