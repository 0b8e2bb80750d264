package dev.meshwork.api;

/**
 * Names, labels and ports fixed by the architecture contract. Scripts, manifests and users depend
 * on these exact values: change one only together with every manifest and doc that repeats it.
 */
public final class MeshConstants {
  private MeshConstants() {}

  /** Namespace every mesh component runs in; mesh-wide policies live here too. */
  public static final String SYSTEM_NAMESPACE = "meshwork-system";

  /** Trust domain of SPIFFE identities unless the operator configures another. */
  public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";

  // --- Injection -------------------------------------------------------------------------------

  /** Namespace label that turns injection on: {@code meshwork.dev/inject=enabled}. */
  public static final String INJECT_LABEL = "meshwork.dev/inject";

  public static final String INJECT_LABEL_ENABLED = "enabled";

  /** Pod annotation: {@code "false"} opts a pod out, {@code "true"} opts it in elsewhere. */
  public static final String INJECT_ANNOTATION = "meshwork.dev/inject";

  /** Annotation the injector sets on pods it changed, so a second pass leaves them alone. */
  public static final String INJECTED_ANNOTATION = "meshwork.dev/injected";

  public static final String SIDECAR_CONTAINER_NAME = "meshwork-proxy";
  public static final String INIT_CONTAINER_NAME = "meshwork-init";

  /** The UID the sidecar runs as; capture rules exclude it so its own traffic is not looped. */
  public static final long SIDECAR_UID = 1337;

  // --- Sidecar ports ---------------------------------------------------------------------------

  public static final int SIDECAR_OUTBOUND_PORT = 15001;
  public static final int SIDECAR_INBOUND_PORT = 15006;

  /** Admin server, bound to localhost only. */
  public static final int SIDECAR_ADMIN_PORT = 15000;

  /** Prometheus metrics and readiness. */
  public static final int SIDECAR_METRICS_PORT = 15020;

  // --- Control plane ports ---------------------------------------------------------------------

  /** gRPC over TLS: ADS and the CA's CSR service. */
  public static final int CONTROL_PLANE_GRPC_PORT = 15012;

  /** Admission webhook, HTTPS. */
  public static final int CONTROL_PLANE_WEBHOOK_PORT = 15017;

  /** Metrics, health and debug endpoints, HTTP. */
  public static final int CONTROL_PLANE_HTTP_PORT = 15014;

  // --- Identity --------------------------------------------------------------------------------

  /** Audience of the projected ServiceAccount token a sidecar presents to the CA. */
  public static final String CA_TOKEN_AUDIENCE = "meshwork-ca";

  /** Where the injector mounts that token inside the sidecar container. */
  public static final String CA_TOKEN_PATH = "/var/run/secrets/meshwork/tokens/meshwork-token";

  /**
   * ConfigMap the CA writes into every meshed namespace: the mesh's trusted roots (two during a
   * root rotation), PEM, under {@link #TRUST_BUNDLE_KEY}.
   */
  public static final String TRUST_BUNDLE_CONFIG_MAP = "meshwork-trust-bundle";

  public static final String TRUST_BUNDLE_KEY = "root-cert.pem";

  /**
   * Where the injector mounts that ConfigMap's key in the sidecar container; the sidecar trusts
   * these roots for the CA's own certificate and re-reads the file as the kubelet updates it.
   */
  public static final String TRUST_BUNDLE_PATH = "/var/run/secrets/meshwork/trust/root-cert.pem";
}
