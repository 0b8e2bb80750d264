package dev.meshwork.meshctl.demo.apps;

/**
 * The parts of an {@code x-forwarded-client-cert} header the demo needs: {@code By} is the identity
 * of the server-side sidecar that terminated mTLS, {@code URI} the verified SPIFFE ID of the
 * client. Both present means the hop was mutual TLS with identities verified on both ends.
 *
 * @param by the server's SPIFFE ID, or empty
 * @param uri the client's SPIFFE ID, or empty
 */
public record ForwardedClientCert(String by, String uri) {

  /**
   * Parses the Envoy-style header {@code By=...;Hash=...;URI=...}; absent or odd input gives
   * empties.
   */
  public static ForwardedClientCert parse(String header) {
    String by = "";
    String uri = "";
    if (header != null) {
      // Only the last element matters: it was added by the sidecar nearest the app.
      String last = header.substring(header.lastIndexOf(',') + 1);
      for (String part : last.split(";")) {
        int eq = part.indexOf('=');
        if (eq <= 0) {
          continue;
        }
        String key = part.substring(0, eq).trim();
        String value = part.substring(eq + 1).trim().replace("\"", "");
        if (key.equalsIgnoreCase("By")) {
          by = value;
        } else if (key.equalsIgnoreCase("URI")) {
          uri = value;
        }
      }
    }
    return new ForwardedClientCert(by, uri);
  }

  public boolean isMutual() {
    return by.startsWith("spiffe://") && uri.startsWith("spiffe://");
  }

  /** {@code client -> server}, with {@code plaintext} standing in for a missing identity. */
  public String hopName() {
    return (uri.isEmpty() ? "plaintext" : uri) + " -> " + (by.isEmpty() ? "plaintext" : by);
  }
}
