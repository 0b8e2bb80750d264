package dev.meshwork.ca.auth;

import dev.meshwork.api.SpiffeId;

/** Proves who presented a bearer token. Implementations are thread-safe and may block. */
@FunctionalInterface
public interface IdentityVerifier {

  /**
   * @param token the bearer token, without the {@code Bearer } prefix; never null
   * @return the identity the token proves
   * @throws AuthenticationException if the token proves nothing (invalid, expired, wrong audience,
   *     not a service account)
   * @throws VerifierUnavailableException if the verdict cannot be obtained right now
   */
  SpiffeId verify(String token);
}
