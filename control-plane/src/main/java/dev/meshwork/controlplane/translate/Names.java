package dev.meshwork.controlplane.translate;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.controlplane.model.ServiceKey;

/** Resource names fixed by {@code docs/xds-contract.md}. */
public final class Names {
  private Names() {}

  /** The name of the inbound listener every sidecar gets. */
  public static final String INBOUND_LISTENER = "inbound|" + MeshConstants.SIDECAR_INBOUND_PORT;

  /** Name of certificate provider instances (workload cert and trust bundle). */
  public static final String CERT_PROVIDER_INSTANCE = "default";

  public static final String ROUTER_FILTER = "envoy.filters.http.router";
  public static final String HCM_FILTER = "envoy.filters.network.http_connection_manager";
  public static final String TLS_INSPECTOR = "envoy.filters.listener.tls_inspector";
  public static final String TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls";
  public static final String HTTP_PROTOCOL_OPTIONS =
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  /** Endpoint metadata namespace carrying pod, workload and version. */
  public static final String METADATA_NAMESPACE = "meshwork";

  /** {@code <svc>.<ns>.svc.cluster.local:<port>}: an outbound listener and its route config. */
  public static String outboundListener(ServiceKey svc, int port) {
    return svc.fqdn() + ":" + port;
  }

  /** {@code outbound|<port>||<svc>.<ns>.svc.cluster.local}: a Service port's cluster. */
  public static String outboundCluster(ServiceKey svc, int port) {
    return "outbound|" + port + "||" + svc.fqdn();
  }

  /** {@code inbound|<port>||}: the local application port behind the inbound listener. */
  public static String inboundCluster(int containerPort) {
    return "inbound|" + containerPort + "||";
  }
}
