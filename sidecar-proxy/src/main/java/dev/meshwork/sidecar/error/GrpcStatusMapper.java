package dev.meshwork.sidecar.error;

/**
 * The single mapping from {@link ProxyException} to a gRPC status code (numeric, as on the wire).
 */
public final class GrpcStatusMapper {
  private GrpcStatusMapper() {}

  public static final int UNAVAILABLE = 14;

  public static int code(ProxyException e) {
    return switch (e) {
      // Envoy answers a missing route with HTTP 404, which gRPC clients read as UNIMPLEMENTED.
      case ProxyException.NoRoute n -> 12;
      case ProxyException.NoCluster n -> UNAVAILABLE;
      case ProxyException.NoHealthyUpstream n -> UNAVAILABLE;
      case ProxyException.UpstreamUnavailable n -> UNAVAILABLE;
      case ProxyException.DeadlineExceeded n -> 4;
      case ProxyException.Forbidden n -> 7;
    };
  }
}
