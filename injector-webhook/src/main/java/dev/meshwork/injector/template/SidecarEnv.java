package dev.meshwork.injector.template;

/**
 * Environment variables the injector sets on the sidecar container; the sidecar reads these names.
 */
public final class SidecarEnv {
  private SidecarEnv() {}

  /** Downward API {@code metadata.name}. */
  public static final String POD_NAME = "POD_NAME";

  /** Downward API {@code metadata.namespace}. */
  public static final String POD_NAMESPACE = "POD_NAMESPACE";

  /** Downward API {@code spec.serviceAccountName}. */
  public static final String SERVICE_ACCOUNT = "SERVICE_ACCOUNT";

  /** Downward API {@code status.podIP}. */
  public static final String POD_IP = "POD_IP";

  /** Downward API {@code status.podIPs}: comma-separated, for dual-stack pods. */
  public static final String INSTANCE_IPS = "INSTANCE_IPS";

  /** Downward API {@code spec.nodeName}. */
  public static final String NODE_NAME = "NODE_NAME";

  /**
   * The pod's labels as a JSON object, fixed at admission (the downward API gives env vars single
   * labels only). Policies and the xDS node metadata select on these.
   */
  public static final String INSTANCE_LABELS = "INSTANCE_LABELS";

  /**
   * The pod's labels as {@code k=v,k=v} (label values cannot hold commas), the form {@code
   * sidecar-proxy run} reads.
   */
  public static final String POD_LABELS = "POD_LABELS";

  /** The workload name (xDS {@code node.cluster}): the {@code app} label, when the pod has one. */
  public static final String WORKLOAD = "WORKLOAD";

  /** {@code host:port} of the control plane (ADS and the CA, gRPC over TLS). */
  public static final String CONTROL_PLANE_ADDRESS = "CONTROL_PLANE_ADDRESS";

  /** SPIFFE trust domain. */
  public static final String TRUST_DOMAIN = "TRUST_DOMAIN";

  /** Path of the projected ServiceAccount token the sidecar shows the CA. */
  public static final String CA_TOKEN_PATH = "CA_TOKEN_PATH";

  /** Container memory limit in bytes (resourceFieldRef), so the JVM can size its heap. */
  public static final String MEMORY_LIMIT = "MEMORY_LIMIT";
}
