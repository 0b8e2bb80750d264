/**
 * The mesh model: an immutable view of everything the translator needs (services with ports and
 * endpoints, workloads with labels and identities, accepted GRPCRoutes and the mesh policies), and
 * {@link dev.meshwork.controlplane.model.MeshModelBuilder}, which turns the raw objects a config
 * source saw into that model while validating routes and remembering the last good version of each.
 *
 * <p>Threading: every type here is an immutable value except {@code MeshModelBuilder}, which keeps
 * per-route state and is confined to the control plane's single model thread.
 */
package dev.meshwork.controlplane.model;
