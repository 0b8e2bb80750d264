/**
 * The translator: pure functions from a {@link dev.meshwork.controlplane.model.MeshModel} and a
 * {@link dev.meshwork.controlplane.translate.ProxyKey} to envoy v3 protos, one class per xDS type
 * ({@code ListenerTranslator}, {@code RouteTranslator}, {@code ClusterTranslator}, {@code
 * EndpointTranslator}), joined by {@code SnapshotAssembler}. Resource names and shapes follow
 * {@code docs/xds-contract.md}.
 *
 * <p>Threading: stateless and side-effect free, so any thread may call them. {@code
 * SnapshotAssembler} memoizes the proxy-independent part per model behind a volatile field.
 */
package dev.meshwork.controlplane.translate;
