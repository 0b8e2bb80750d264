package dev.meshwork.e2e.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The harness's API server is a real one: it serves the Gateway API's GRPCRoute at v1 and our own
 * CRDs, signs ServiceAccount tokens that TokenReview accepts, and authorizes with RBAC.
 */
@KubeApiServerTest
class KubeApiServerSmokeIT {
  private static final String NS = "smoke-" + UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void namespace(KubernetesClient client) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
  }

  @AfterAll
  static void cleanup(KubernetesClient client) {
    client.namespaces().withName(NS).delete();
  }

  @Test
  void servesGrpcRouteV1AttachedToAService(KubernetesClient client) {
    GRPCRoute route =
        new GRPCRouteBuilder()
            .withNewMetadata()
            .withName("greeter-canary")
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .addNewParentRef()
            .withGroup("")
            .withKind("Service")
            .withName("greeter")
            .withPort(50051)
            .endParentRef()
            .addNewRule()
            .addNewMatch()
            .addNewHeader()
            .withName("x-canary")
            .withValue("true")
            .endHeader()
            .endMatch()
            .addNewBackendRef()
            .withName("greeter-v2")
            .withPort(50051)
            .endBackendRef()
            .endRule()
            .endSpec()
            .build();

    client.resource(route).create();

    GRPCRoute read =
        client.resources(GRPCRoute.class).inNamespace(NS).withName("greeter-canary").get();
    assertThat(read.getApiVersion()).isEqualTo("gateway.networking.k8s.io/v1");
    assertThat(read.getSpec().getParentRefs().get(0).getKind()).isEqualTo("Service");
    assertThat(read.getSpec().getRules().get(0).getMatches().get(0).getHeaders().get(0).getName())
        .isEqualTo("x-canary");
  }

  @Test
  void servesOurCrdsWithSchemaValidation(KubernetesClient client) {
    GenericKubernetesResource strict =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("security.meshwork.dev/v1alpha1")
            .withKind("PeerAuthentication")
            .withNewMetadata()
            .withName("strict")
            .withNamespace(NS)
            .endMetadata()
            .withAdditionalProperties(Map.of("spec", Map.of("mtls", Map.of("mode", "STRICT"))))
            .build();
    client.resource(strict).create();

    GenericKubernetesResource read =
        client
            .genericKubernetesResources("security.meshwork.dev/v1alpha1", "PeerAuthentication")
            .inNamespace(NS)
            .withName("strict")
            .get();
    assertThat(read.<String>get("spec", "mtls", "mode")).isEqualTo("STRICT");

    // The CRD's schema is enforced by the API server: an unknown mode is refused.
    GenericKubernetesResource bogus =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("security.meshwork.dev/v1alpha1")
            .withKind("PeerAuthentication")
            .withNewMetadata()
            .withName("bogus")
            .withNamespace(NS)
            .endMetadata()
            .withAdditionalProperties(Map.of("spec", Map.of("mtls", Map.of("mode", "SOMETIMES"))))
            .build();
    assertThatThrownBy(() -> client.resource(bogus).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("SOMETIMES");

    for (String crd :
        new String[] {
          "authorizationpolicies.security.meshwork.dev", "trafficpolicies.networking.meshwork.dev"
        }) {
      assertThat(client.apiextensions().v1().customResourceDefinitions().withName(crd).get())
          .as(crd)
          .isNotNull();
    }
  }

  @Test
  void tokenReviewNamesTheServiceAccountOfAnIssuedToken(KubernetesClient client) {
    client
        .serviceAccounts()
        .inNamespace(NS)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("greeter").endMetadata().build())
        .create();
    String token =
        client
            .serviceAccounts()
            .inNamespace(NS)
            .withName("greeter")
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withAudiences(KubeCluster.ISSUER)
                    .withExpirationSeconds(600L)
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();

    TokenReview review = review(client, token);
    assertThat(review.getStatus().getAuthenticated()).isTrue();
    assertThat(review.getStatus().getUser().getUsername())
        .isEqualTo("system:serviceaccount:" + NS + ":greeter");
    assertThat(review.getStatus().getUser().getGroups()).contains("system:serviceaccounts:" + NS);

    // A token whose signature does not verify is not authenticated.
    String forged = token.substring(0, token.lastIndexOf('.') + 1) + "AAAA";
    assertThat(review(client, forged).getStatus().getAuthenticated()).isNotEqualTo(Boolean.TRUE);
  }

  @Test
  void rbacDeniesAServiceAccountWithoutRoles(KubeCluster cluster, KubernetesClient client) {
    client
        .serviceAccounts()
        .inNamespace(NS)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("nobody").endMetadata().build())
        .create();
    String token =
        client
            .serviceAccounts()
            .inNamespace(NS)
            .withName("nobody")
            .tokenRequest(new TokenRequestBuilder().withNewSpec().endSpec().build())
            .getStatus()
            .getToken();
    try (KubernetesClient asNobody =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(cluster.adminConfig())
                    .withClientCertData(null)
                    .withClientKeyData(null)
                    .withOauthToken(token)
                    .build())
            .build()) {
      assertThatThrownBy(() -> asNobody.secrets().inNamespace(NS).list())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }
  }

  private static TokenReview review(KubernetesClient client, String token) {
    return client
        .resource(new TokenReviewBuilder().withNewSpec().withToken(token).endSpec().build())
        .create();
  }
}
