package dev.meshwork.sidecar.telemetry;

/**
 * One finished gRPC call as a sidecar saw it.
 *
 * @param direction {@code inbound} (this sidecar's workload was called) or {@code outbound}
 * @param sourceWorkload calling workload ({@code unknown} when not known, e.g. plaintext inbound)
 * @param sourceNamespace calling namespace
 * @param destinationWorkload called workload
 * @param destinationNamespace called namespace
 * @param destinationService called Service host, e.g. {@code greeter.demo.svc.cluster.local}
 * @param rpcService gRPC service from the path, e.g. {@code helloworld.Greeter}
 * @param rpcMethod gRPC method from the path, e.g. {@code SayHello}
 * @param grpcStatus numeric grpc-status, e.g. 0; 2 (UNKNOWN) when the call ended without one
 * @param responseFlags {@code -} or a comma list of {@link ResponseFlag}s
 * @param mtls true when the hop used mutual TLS with a verified peer identity
 * @param durationNanos from request headers to the end of the response
 */
public record CallRecord(
    String direction,
    String sourceWorkload,
    String sourceNamespace,
    String destinationWorkload,
    String destinationNamespace,
    String destinationService,
    String rpcService,
    String rpcMethod,
    int grpcStatus,
    String responseFlags,
    boolean mtls,
    long durationNanos) {

  /** Why a call ended the way it did, beyond its status; as in Envoy's access-log flags. */
  public enum ResponseFlag {
    RETRIED,
    TIMED_OUT,
    DENIED,
    NO_ROUTE,
    NO_HEALTHY_UPSTREAM,
    UPSTREAM_RESET,
    DOWNSTREAM_CANCELLED;

    /** The flag of a call the sidecar answered itself because of {@code e}. */
    public static ResponseFlag of(dev.meshwork.sidecar.error.ProxyException e) {
      return switch (e) {
        case dev.meshwork.sidecar.error.ProxyException.NoRoute r -> NO_ROUTE;
        case dev.meshwork.sidecar.error.ProxyException.NoCluster c -> NO_ROUTE;
        case dev.meshwork.sidecar.error.ProxyException.NoHealthyUpstream n -> NO_HEALTHY_UPSTREAM;
        case dev.meshwork.sidecar.error.ProxyException.UpstreamUnavailable u -> NO_HEALTHY_UPSTREAM;
        case dev.meshwork.sidecar.error.ProxyException.DeadlineExceeded d -> TIMED_OUT;
        case dev.meshwork.sidecar.error.ProxyException.Forbidden f -> DENIED;
      };
    }
  }

  /** Splits {@code /pkg.Service/Method} into service and method; odd paths give {@code unknown}. */
  public static String[] splitPath(String path) {
    if (path != null && path.length() > 1 && path.charAt(0) == '/') {
      int slash = path.indexOf('/', 1);
      if (slash > 1 && slash < path.length() - 1 && path.indexOf('/', slash + 1) < 0) {
        return new String[] {path.substring(1, slash), path.substring(slash + 1)};
      }
    }
    return new String[] {"unknown", "unknown"};
  }
}
