/**
 * The xDS client: one ADS stream (SotW, envoy v3) to the control plane, one parser per resource
 * type, and the assembly of accepted resources into a {@link
 * dev.meshwork.sidecar.config.SidecarSnapshot}. Follows docs/xds-contract.md: wildcard LDS, then
 * RDS, CDS and EDS by name.
 *
 * <p>Threading: {@link dev.meshwork.sidecar.xds.XdsClient} changes its state only on its own
 * single-thread executor (gRPC callbacks are delivered there). Parsers are pure functions.
 */
package dev.meshwork.sidecar.xds;
