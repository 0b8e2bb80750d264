package dev.meshwork.sidecar.error;

/** A call the proxy could not complete, with enough context to say why. */
public abstract sealed class ProxyException extends Exception
    permits ProxyException.NoRoute,
        ProxyException.NoCluster,
        ProxyException.NoHealthyUpstream,
        ProxyException.UpstreamUnavailable,
        ProxyException.DeadlineExceeded,
        ProxyException.Forbidden {

  ProxyException(String message) {
    super(message, null, false, false);
  }

  /** No virtual host or route matched the call. */
  public static final class NoRoute extends ProxyException {
    public NoRoute(String authority, String path) {
      super("no route for authority '" + authority + "' path '" + path + "'");
    }
  }

  /** The route names a cluster the proxy has not received (yet). */
  public static final class NoCluster extends ProxyException {
    public NoCluster(String cluster) {
      super("unknown cluster '" + cluster + "'");
    }
  }

  /** The cluster has no endpoint left to try. */
  public static final class NoHealthyUpstream extends ProxyException {
    public NoHealthyUpstream(String cluster) {
      super("no healthy upstream in cluster '" + cluster + "'");
    }
  }

  /** Connecting to or opening a stream on the upstream failed, after any retries. */
  public static final class UpstreamUnavailable extends ProxyException {
    public UpstreamUnavailable(String cluster, String endpoint, String cause) {
      super("upstream " + endpoint + " of cluster '" + cluster + "' unavailable: " + cause);
    }
  }

  /** The call's grpc-timeout or the route timeout expired in the proxy. */
  public static final class DeadlineExceeded extends ProxyException {
    public DeadlineExceeded(long millis) {
      super("deadline of " + millis + " ms exceeded in the sidecar");
    }
  }

  /** The inbound policy refuses this connection's transport for the port. */
  public static final class Forbidden extends ProxyException {
    public Forbidden(String why) {
      super(why);
    }
  }
}
