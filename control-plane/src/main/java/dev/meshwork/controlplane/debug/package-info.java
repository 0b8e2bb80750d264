/**
 * The control plane's HTTP port (15014): {@code /healthz}, {@code /debug/proxies} (connected
 * proxies with the version of each type they ACKed or NACKed: what {@code meshctl proxy-status}
 * shows), {@code /debug/config?proxy=<id>} (the resources generated for one proxy, as JSON), {@code
 * /debug/routes} (the verdict on each GRPCRoute), {@code /debug/policies} (the verdict on each
 * PeerAuthentication: accepted, or why not and whether its last good version is in force), and a
 * hook where {@code /metrics} plugs in.
 *
 * <p>Threading: the JDK HTTP server runs handlers on a small executor; handlers only read
 * thread-safe state (registry, publisher, volatile reports).
 */
package dev.meshwork.controlplane.debug;
