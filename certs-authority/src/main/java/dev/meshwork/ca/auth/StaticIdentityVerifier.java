package dev.meshwork.ca.auth;

import dev.meshwork.api.SpiffeId;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * Fixed tokens mapped to fixed identities, for {@code meshctl demo} and tests where no API server
 * exists. NOT FOR CLUSTERS: anyone who reads the demo's configuration can become any of its
 * identities, and tokens never expire. In Kubernetes use {@link KubernetesTokenReviewVerifier}.
 */
public final class StaticIdentityVerifier implements IdentityVerifier {
  private final Map<String, SpiffeId> identities;

  public StaticIdentityVerifier(Map<String, SpiffeId> identities) {
    this.identities = Map.copyOf(identities);
  }

  @Override
  public SpiffeId verify(String token) {
    // Compare every token in constant time so a caller cannot guess one byte by byte.
    byte[] presented = token.getBytes(StandardCharsets.UTF_8);
    SpiffeId match = null;
    for (var entry : identities.entrySet()) {
      if (MessageDigest.isEqual(presented, entry.getKey().getBytes(StandardCharsets.UTF_8))) {
        match = entry.getValue();
      }
    }
    if (match == null) {
      throw new AuthenticationException("unknown token");
    }
    return match;
  }
}
