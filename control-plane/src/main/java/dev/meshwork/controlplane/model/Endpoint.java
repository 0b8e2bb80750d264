package dev.meshwork.controlplane.model;

/**
 * One backend address of a Service port.
 *
 * @param ip pod IP (in the demo a 127.0.0.x loopback address)
 * @param port the container port the address listens on
 * @param namespace the pod's namespace
 * @param pod the pod's name, or empty when the address has no pod (e.g. a hand-written slice)
 * @param workload the workload name ({@code app} label, else the pod name)
 * @param version the {@code version} label, or empty
 * @param serviceAccount the pod's service account, or empty when unknown
 * @param meshed true when a Meshwork sidecar fronts the pod (auto-mTLS speaks TLS to it)
 * @param ready true when the endpoint may receive traffic
 */
public record Endpoint(
    String ip,
    int port,
    String namespace,
    String pod,
    String workload,
    String version,
    String serviceAccount,
    boolean meshed,
    boolean ready) {}
