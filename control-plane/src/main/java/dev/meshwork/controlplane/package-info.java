/**
 * The Meshwork control plane: {@link dev.meshwork.controlplane.ControlPlane} wires a config source
 * to the model builder, the snapshot publisher, the xDS server and the debug server; {@link
 * dev.meshwork.controlplane.ControlPlaneMain} is the command line entry point.
 *
 * <p>Threading: the source calls back on its own thread; the model is built on the single {@code
 * meshwork-model} thread; publishing, status writing and serving each have their own threads (see
 * each package).
 */
package dev.meshwork.controlplane;
