/**
 * The control-plane scale benchmark ({@code scenario = controlplane}): the real control plane in
 * its own JVM, fed from a folder of YAML, and many simulated sidecars, each on its own real ADS
 * stream over loopback gRPC. Entry point: {@link
 * dev.meshwork.bench.controlplane.ControlPlaneBench}.
 */
package dev.meshwork.bench.controlplane;
