package dev.meshwork.ca.auth;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.SpiffeId;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import javax.annotation.concurrent.ThreadSafe;

/**
 * Asks the API server (TokenReview, {@code authentication.k8s.io/v1}) whether a projected
 * ServiceAccount token is valid for the audience {@code meshwork-ca}, and maps the service account
 * it names to {@code spiffe://<td>/ns/<ns>/sa/<sa>}. The API server checks signature, expiry,
 * audience and that the pod and service account still exist; this class additionally checks that
 * the returned audiences include ours, since an API server without audience support ignores them.
 *
 * <p>The control plane's service account needs {@code create} on {@code tokenreviews}.
 */
@ThreadSafe
public final class KubernetesTokenReviewVerifier implements IdentityVerifier {
  private final KubernetesClient client;
  private final String audience;
  private final String trustDomain;

  public KubernetesTokenReviewVerifier(KubernetesClient client, String trustDomain) {
    this(client, MeshConstants.CA_TOKEN_AUDIENCE, trustDomain);
  }

  public KubernetesTokenReviewVerifier(
      KubernetesClient client, String audience, String trustDomain) {
    this.client = client;
    this.audience = audience;
    this.trustDomain = trustDomain;
  }

  @Override
  public SpiffeId verify(String token) {
    if (token.isBlank()) {
      throw new AuthenticationException("empty bearer token");
    }
    TokenReview review =
        new TokenReviewBuilder()
            .withNewSpec()
            .withToken(token)
            .withAudiences(audience)
            .endSpec()
            .build();
    TokenReview answer;
    try {
      answer = client.authentication().v1().tokenReviews().create(review);
    } catch (KubernetesClientException e) {
      throw new VerifierUnavailableException("TokenReview failed: " + e.getMessage(), e);
    }
    TokenReviewStatus status = answer == null ? null : answer.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      String reason =
          status == null || status.getError() == null ? "not authenticated" : status.getError();
      throw new AuthenticationException("token rejected by TokenReview: " + reason);
    }
    List<String> audiences = status.getAudiences();
    if (audiences == null || !audiences.contains(audience)) {
      throw new AuthenticationException(
          "token is not for audience " + audience + " (TokenReview returned " + audiences + ")");
    }
    String username = status.getUser() == null ? null : status.getUser().getUsername();
    return ServiceAccountUsername.toSpiffeId(username, trustDomain);
  }
}
