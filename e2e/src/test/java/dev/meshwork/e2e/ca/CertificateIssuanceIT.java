package dev.meshwork.e2e.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.SpiffeId;
import dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateResponse;
import dev.meshwork.ca.auth.KubernetesTokenReviewVerifier;
import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.ca.grpc.CertificateServiceImpl;
import dev.meshwork.ca.issue.CaConfig;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.pki.Csrs;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.store.InMemoryCaStore;
import dev.meshwork.e2e.kube.KubeApiServerTest;
import dev.meshwork.e2e.kube.KubeCluster;
import dev.meshwork.e2e.kube.Prerequisites;
import dev.meshwork.e2e.node.ProcessKubelet;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The mesh CA against the real API server: a workload certificate is issued only for the identity
 * that the caller's projected ServiceAccount token proves through TokenReview (audience {@code
 * meshwork-ca}), and refused for another service account's identity, for a token of the wrong
 * audience, and for the token of a pod that no longer exists.
 *
 * <p>The CA runs in the test JVM with the RBAC a real install gives it (create tokenreviews, as a
 * ServiceAccount), serving gRPC in plaintext on 127.0.0.1; the tokens come from pods run by the
 * process kubelet.
 */
@KubeApiServerTest
@Tag("netns")
class CertificateIssuanceIT {
  private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);
  private static final String NS = "ca-" + SUFFIX;
  private static ProcessKubelet node;
  private static KubernetesClient caClient;
  private static Server server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start(KubeCluster cluster, KubernetesClient client) throws Exception {
    Prerequisites.require(Prerequisites.isRoot(), "the process kubelet needs root");
    node = ProcessKubelet.start(client, "node-" + SUFFIX);
    for (String ns : List.of(NS, "ca-system-" + SUFFIX)) {
      client
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
          .create();
    }
    // The CA's own identity: a ServiceAccount allowed to create TokenReviews, nothing more.
    String caNs = "ca-system-" + SUFFIX;
    client
        .serviceAccounts()
        .inNamespace(caNs)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("ca").endMetadata().build())
        .create();
    client
        .rbac()
        .clusterRoles()
        .resource(
            new ClusterRoleBuilder()
                .withNewMetadata()
                .withName("meshwork-e2e-ca-" + SUFFIX)
                .endMetadata()
                .addNewRule()
                .withApiGroups("authentication.k8s.io")
                .withResources("tokenreviews")
                .withVerbs("create")
                .endRule()
                .build())
        .create();
    client
        .rbac()
        .clusterRoleBindings()
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName("meshwork-e2e-ca-" + SUFFIX)
                .endMetadata()
                .withNewRoleRef(
                    "rbac.authorization.k8s.io", "ClusterRole", "meshwork-e2e-ca-" + SUFFIX)
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("ca")
                .withNamespace(caNs)
                .endSubject()
                .build())
        .create();
    String caToken =
        client
            .serviceAccounts()
            .inNamespace(caNs)
            .withName("ca")
            .tokenRequest(new TokenRequestBuilder().withNewSpec().endSpec().build())
            .getStatus()
            .getToken();
    caClient =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(cluster.adminConfig())
                    .withClientCertData(null)
                    .withClientKeyData(null)
                    .withOauthToken(caToken)
                    .build())
            .build();

    CertificateAuthority ca =
        CertificateAuthority.start(CaConfig.defaults(), new InMemoryCaStore(), Clock.systemUTC());
    CertificateServiceImpl service =
        new CertificateServiceImpl(
            ca, new KubernetesTokenReviewVerifier(caClient, "cluster.local"), new CaMetrics() {});
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .addService(service.serviceDefinition())
            .build()
            .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> client.serviceAccounts().inNamespace(NS).withName("default").get() != null);
    for (String sa : List.of("greeter", "caller")) {
      client
          .serviceAccounts()
          .inNamespace(NS)
          .resource(
              new ServiceAccountBuilder().withNewMetadata().withName(sa).endMetadata().build())
          .create();
      client.pods().inNamespace(NS).resource(pod(sa)).create();
    }
    for (String sa : List.of("greeter", "caller")) {
      await(sa + " Ready")
          .atMost(Duration.ofSeconds(60))
          .until(() -> ready(client.pods().inNamespace(NS).withName(sa).get()));
    }
  }

  @AfterAll
  static void stop(KubernetesClient client) throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (caClient != null) {
      caClient.close();
    }
    if (node != null) {
      node.close();
    }
    client.namespaces().withName(NS).delete();
    client.namespaces().withName("ca-system-" + SUFFIX).delete();
    client.rbac().clusterRoleBindings().withName("meshwork-e2e-ca-" + SUFFIX).delete();
    client.rbac().clusterRoles().withName("meshwork-e2e-ca-" + SUFFIX).delete();
  }

  @Test
  void issuesTheIdentityTheProjectedTokenProves() throws Exception {
    CreateCertificateResponse answer = request(token("greeter"), "greeter");

    X509Certificate leaf = parse(answer.getCertChainPem(0));
    List<Object> sans =
        leaf.getSubjectAlternativeNames().stream().map(san -> (Object) san.get(1)).toList();
    assertThat(sans).containsExactly("spiffe://cluster.local/ns/" + NS + "/sa/greeter");
    X509Certificate intermediate = parse(answer.getCertChainPem(1));
    leaf.verify(intermediate.getPublicKey());
    intermediate.verify(parse(answer.getTrustBundlePem(0)).getPublicKey());
  }

  @Test
  void refusesAnotherServiceAccountsIdentity() throws Exception {
    assertThat(request(token("caller"), "caller").getCertChainPemCount()).isEqualTo(2);

    assertThatThrownBy(() -> request(token("greeter"), "caller"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> request(token("caller"), "greeter"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
  }

  @Test
  void refusesATokenForAnotherAudience(KubernetesClient client) throws Exception {
    // The kube-api-access token every pod gets is for the API server, not for the CA.
    Pod greeter = client.pods().inNamespace(NS).withName("greeter").get();
    String apiVolume =
        greeter.getSpec().getVolumes().stream()
            .filter(v -> v.getName().startsWith("kube-api-access"))
            .findFirst()
            .orElseThrow()
            .getName();
    String apiToken = Files.readString(node.volumeDir(NS, "greeter", apiVolume).resolve("token"));

    assertThatThrownBy(() -> request(apiToken, "greeter"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  @Test
  void refusesTheTokenOfADeletedPod(KubernetesClient client) throws Exception {
    client
        .serviceAccounts()
        .inNamespace(NS)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("gone").endMetadata().build())
        .create();
    client.pods().inNamespace(NS).resource(pod("gone")).create();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> ready(client.pods().inNamespace(NS).withName("gone").get()));
    String token = token("gone");
    assertThat(request(token, "gone").getCertChainPemCount()).isEqualTo(2);

    client.pods().inNamespace(NS).withName("gone").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> client.pods().inNamespace(NS).withName("gone").get() == null);

    // The API server caches a successful token authentication for 10 s; after that the token of
    // the deleted pod is refused.
    await("token of the deleted pod refused")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> refusedAs(Status.Code.UNAUTHENTICATED, token, "gone"));
  }

  private static boolean refusedAs(Status.Code code, String token, String serviceAccount) {
    try {
      request(token, serviceAccount);
      return false;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode() == code;
    }
  }

  private static CreateCertificateResponse request(String token, String serviceAccount) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return CertificateServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .createCertificate(
            CreateCertificateRequest.newBuilder()
                .setCsrPem(
                    Csrs.workloadCsrPem(
                        KeyPairs.generate(KeyPairs.P256), SpiffeId.of(NS, serviceAccount)))
                .setValiditySeconds(3600)
                .build());
  }

  /** The token the process kubelet projected into the pod for the CA's audience. */
  private static String token(String pod) throws Exception {
    return Files.readString(node.volumeDir(NS, pod, "meshwork-token").resolve("token"));
  }

  private static Pod pod(String serviceAccount) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(serviceAccount)
        .addToLabels("app", serviceAccount)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node.nodeName())
        .withServiceAccountName(serviceAccount)
        .withTerminationGracePeriodSeconds(2L)
        .addNewContainer()
        .withName("app")
        .withImage("host/sleep")
        .withCommand("sleep", "600")
        .addNewVolumeMount()
        .withName("meshwork-token")
        .withMountPath("/var/run/secrets/meshwork/tokens")
        .withReadOnly(true)
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("meshwork-token")
        .withNewProjected()
        .addNewSource()
        .withNewServiceAccountToken()
        .withAudience(MeshConstants.CA_TOKEN_AUDIENCE)
        .withExpirationSeconds(3600L)
        .withPath("token")
        .endServiceAccountToken()
        .endSource()
        .endProjected()
        .endVolume()
        .endSpec()
        .build();
  }

  private static boolean ready(Pod p) {
    return p != null
        && p.getStatus() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  private static X509Certificate parse(String pem) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.UTF_8)));
  }
}
