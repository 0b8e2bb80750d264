package dev.meshwork.ca.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** TokenReview against fabric8's mock API server in expectations mode. */
@EnableKubernetesMockClient
class KubernetesTokenReviewVerifierTest {
  private static final String PATH = "/apis/authentication.k8s.io/v1/tokenreviews";
  static KubernetesMockServer server;
  static KubernetesClient client;

  private static TokenReview answer(
      boolean authenticated, String username, List<String> audiences, String error) {
    return new TokenReviewBuilder()
        .withNewStatus()
        .withAuthenticated(authenticated)
        .withAudiences(audiences)
        .withError(error)
        .withNewUser()
        .withUsername(username)
        .endUser()
        .endStatus()
        .build();
  }

  private SpiffeId verify(String token) {
    return new KubernetesTokenReviewVerifier(client, "cluster.local").verify(token);
  }

  @Test
  void serviceAccountTokenForTheMeshAudienceMapsToItsSpiffeId() throws Exception {
    server
        .expect()
        .post()
        .withPath(PATH)
        .andReturn(
            201, answer(true, "system:serviceaccount:shop:cart", List.of("meshwork-ca"), null))
        .once();
    assertThat(verify("token-abc")).isEqualTo(SpiffeId.of("shop", "cart"));

    String body = server.getLastRequest().getBody().readUtf8();
    assertThat(body)
        .contains("\"token\":\"token-abc\"")
        .contains("\"audiences\":[\"meshwork-ca\"]");
  }

  @Test
  void rejectedTokenIsAnAuthenticationFailureWithTheApiServersReason() {
    server
        .expect()
        .post()
        .withPath(PATH)
        .andReturn(201, answer(false, null, null, "token has expired"))
        .once();
    assertThatThrownBy(() -> verify("expired"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("token has expired");
  }

  @Test
  void tokenForAnotherAudienceIsRefusedEvenIfAuthenticated() {
    server
        .expect()
        .post()
        .withPath(PATH)
        .andReturn(
            201,
            answer(
                true,
                "system:serviceaccount:shop:cart",
                List.of("https://kubernetes.default.svc"),
                null))
        .once();
    assertThatThrownBy(() -> verify("apiserver-token"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("not for audience meshwork-ca");
  }

  @Test
  void userThatIsNotAServiceAccountIsRefused() {
    server
        .expect()
        .post()
        .withPath(PATH)
        .andReturn(201, answer(true, "kubernetes-admin", List.of("meshwork-ca"), null))
        .once();
    assertThatThrownBy(() -> verify("admin-token"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("does not belong to a service account");
  }

  @Test
  void apiServerErrorIsUnavailableNotUnauthenticated() {
    server.expect().post().withPath(PATH).andReturn(500, "boom").once();
    assertThatThrownBy(() -> verify("any")).isInstanceOf(VerifierUnavailableException.class);
  }
}
