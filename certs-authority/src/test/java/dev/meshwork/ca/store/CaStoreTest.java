package dev.meshwork.ca.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.ca.TestCa;
import dev.meshwork.ca.issue.CaConfig;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.issue.IssuedCertificate;
import dev.meshwork.ca.pki.CaGeneration;
import dev.meshwork.ca.pki.Certificates;
import dev.meshwork.ca.pki.Csrs;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.Pem;
import dev.meshwork.ca.pki.WorkloadCsr;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@EnableKubernetesMockClient(crud = true)
class CaStoreTest {
  static KubernetesClient client;

  @TempDir Path dir;

  private static IssuedCertificate issue(CertificateAuthority ca) {
    return ca.issueWorkload(
        WorkloadCsr.parse(
            Csrs.workloadCsrPem(KeyPairs.generate(KeyPairs.P256), SpiffeId.of("a", "b"))),
        Duration.ZERO);
  }

  @Test
  void directoryStoreKeepsTheRootAcrossRestartsSoIssuedCertificatesStayValid() throws Exception {
    Path caDir = dir.resolve("ca");
    CertificateAuthority first =
        CertificateAuthority.start(
            CaConfig.defaults(), new DirectoryCaStore(caDir), Clock.systemUTC());
    IssuedCertificate before = issue(first);

    CertificateAuthority restarted =
        CertificateAuthority.start(
            CaConfig.defaults(), new DirectoryCaStore(caDir), Clock.systemUTC());
    assertThat(restarted.trustBundle()).isEqualTo(first.trustBundle());
    TestCa.pkixValidate(before.chain(), restarted.trustBundle(), new Date());
    TestCa.pkixValidate(issue(restarted).chain(), first.trustBundle(), new Date());

    assertThat(Files.getPosixFilePermissions(caDir))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    assertThat(Files.getPosixFilePermissions(caDir.resolve(CaStateCodec.INTERMEDIATE_KEY)))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
  }

  @Test
  void secretStoreCreatesTheSecretOnFirstStartAndReusesItAfter() throws Exception {
    var store = new KubernetesSecretCaStore(client, "meshwork-system", "meshwork-ca");
    CertificateAuthority first =
        CertificateAuthority.start(CaConfig.defaults(), store, Clock.systemUTC());
    Secret secret = client.secrets().inNamespace("meshwork-system").withName("meshwork-ca").get();
    assertThat(secret.getData())
        .containsKeys("root-cert.pem", "root-key.pem", "ca-cert.pem", "ca-key.pem");
    IssuedCertificate before = issue(first);

    CertificateAuthority second =
        CertificateAuthority.start(
            CaConfig.defaults(),
            new KubernetesSecretCaStore(client, "meshwork-system", "meshwork-ca"),
            Clock.systemUTC());
    assertThat(second.trustBundle()).isEqualTo(first.trustBundle());
    TestCa.pkixValidate(before.chain(), second.trustBundle(), new Date());
  }

  @Test
  void secondReplicaLosingTheCreateRaceAdoptsTheWinnersRoot() {
    var store = new KubernetesSecretCaStore(client, "meshwork-system", "race");
    CertificateAuthority winner =
        CertificateAuthority.start(CaConfig.defaults(), store, Clock.systemUTC());
    // The loser generated its own material before the create; the store answers with the winner's.
    CaGeneration loser =
        Certificates.newGeneration(
            "cluster.local", Instant.now(), Duration.ofDays(10), Duration.ofDays(1));
    Map<String, String> stored =
        store.createIfAbsent(CaStateCodec.encode(dev.meshwork.ca.pki.CaState.of(loser)));
    assertThat(CaStateCodec.decode(stored, "race").active().root())
        .isEqualTo(winner.activeGeneration().root());
  }

  @Test
  void operatorSuppliedRootAndIntermediateAreUsedAndCannotBeRotatedWithoutTheRootKey()
      throws Exception {
    CaGeneration operator =
        Certificates.newGeneration(
            "cluster.local", Instant.now(), Duration.ofDays(100), Duration.ofDays(50));
    Map<String, String> plugged = new HashMap<>();
    plugged.put("root-cert.pem", Pem.encode(operator.root()));
    plugged.put("ca-cert.pem", Pem.encode(operator.intermediate()));
    plugged.put(
        "ca-key.pem", Pem.encode(operator.intermediateKey())); // SEC1 form, as openssl writes it
    Path caDir = dir.resolve("plugged");
    new DirectoryCaStore(caDir).replace(plugged);

    CertificateAuthority ca =
        CertificateAuthority.start(
            CaConfig.defaults(), new DirectoryCaStore(caDir), Clock.systemUTC());
    assertThat(ca.trustBundle()).containsExactly(operator.root());
    TestCa.pkixValidate(issue(ca).chain(), List.of(operator.root()), new Date());
    assertThatThrownBy(ca::rotateRoot)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("root");
  }

  @Test
  void inconsistentMaterialIsRefusedWithTheEntryNamed() {
    CaGeneration a =
        Certificates.newGeneration(
            "cluster.local", Instant.now(), Duration.ofDays(10), Duration.ofDays(1));
    CaGeneration b =
        Certificates.newGeneration(
            "cluster.local", Instant.now(), Duration.ofDays(10), Duration.ofDays(1));
    Map<String, String> wrongKey =
        new HashMap<>(CaStateCodec.encode(dev.meshwork.ca.pki.CaState.of(a)));
    wrongKey.put("ca-key.pem", Pem.encodePrivateKey(b.intermediateKey()));
    assertThatThrownBy(() -> CaStateCodec.decode(wrongKey, "secret x"))
        .isInstanceOf(CaMaterialException.class)
        .hasMessage("secret x: ca-key.pem does not belong to ca-cert.pem");

    Map<String, String> wrongRoot =
        new HashMap<>(CaStateCodec.encode(dev.meshwork.ca.pki.CaState.of(a)));
    wrongRoot.put("root-cert.pem", Pem.encode(b.root()));
    wrongRoot.remove("root-key.pem");
    assertThatThrownBy(() -> CaStateCodec.decode(wrongRoot, "secret x"))
        .isInstanceOf(CaMaterialException.class)
        .hasMessageContaining("ca-cert.pem is not signed by root-cert.pem");

    Map<String, String> missing =
        new HashMap<>(CaStateCodec.encode(dev.meshwork.ca.pki.CaState.of(a)));
    missing.remove("ca-key.pem");
    assertThatThrownBy(() -> CaStateCodec.decode(missing, "secret x"))
        .isInstanceOf(CaMaterialException.class)
        .hasMessage("secret x: missing entry ca-key.pem");
  }
}
