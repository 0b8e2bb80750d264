package dev.meshwork.ca.auth;

import dev.meshwork.api.SpiffeId;

/** Maps Kubernetes usernames {@code system:serviceaccount:<ns>:<sa>} to SPIFFE identities. */
public final class ServiceAccountUsername {
  private ServiceAccountUsername() {}

  private static final String PREFIX = "system:serviceaccount:";

  /**
   * @throws AuthenticationException if {@code username} is not a service account's
   */
  public static SpiffeId toSpiffeId(String username, String trustDomain) {
    if (username == null || !username.startsWith(PREFIX)) {
      throw new AuthenticationException("token does not belong to a service account: " + username);
    }
    String[] parts = username.substring(PREFIX.length()).split(":", -1);
    if (parts.length != 2) {
      throw new AuthenticationException("malformed service account username: " + username);
    }
    try {
      return new SpiffeId(trustDomain, parts[0], parts[1]);
    } catch (IllegalArgumentException e) {
      throw new AuthenticationException(
          "service account username " + username + ": " + e.getMessage());
    }
  }
}
