/**
 * {@code sidecar-proxy capture}: the init container's program that installs the iptables rules
 * sending a pod's TCP traffic through the sidecar (inbound to 15006, outbound to 15001) while the
 * sidecar's own UID goes out directly. {@link dev.meshwork.sidecar.capture.CaptureRules} is the
 * pure rule builder; {@link dev.meshwork.sidecar.capture.CaptureCommand} parses flags and applies
 * (or, with {@code --dry-run}, prints) the rules through {@link
 * dev.meshwork.sidecar.capture.Iptables}.
 *
 * <p>Threading: runs once, on the caller's thread, and exits; nothing is shared.
 */
package dev.meshwork.sidecar.capture;
