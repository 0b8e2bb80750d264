package dev.meshwork.sidecar.xds;

/** The envoy v3 type URLs this client subscribes to. */
public final class TypeUrls {
  private TypeUrls() {}

  private static final String PREFIX = "type.googleapis.com/";
  public static final String LISTENER = PREFIX + "envoy.config.listener.v3.Listener";
  public static final String ROUTE = PREFIX + "envoy.config.route.v3.RouteConfiguration";
  public static final String CLUSTER = PREFIX + "envoy.config.cluster.v3.Cluster";
  public static final String ENDPOINT = PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment";
  public static final String HCM =
      PREFIX + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
  public static final String UPSTREAM_TLS =
      PREFIX + "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
  public static final String DOWNSTREAM_TLS =
      PREFIX + "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
}
