package dev.meshwork.ca;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.ca.issue.CaConfig;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.issue.IssuedCertificate;
import dev.meshwork.ca.issue.ServingCertificate;
import dev.meshwork.ca.pki.Csrs;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.Pem;
import dev.meshwork.ca.pki.WorkloadCsr;
import dev.meshwork.ca.store.InMemoryCaStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chain and SANs as OpenSSL, a TLS stack independent of Java, sees them. */
@Tag("external")
class OpensslVerifyTest {
  @TempDir Path dir;

  private final CertificateAuthority ca = TestCa.inMemory();

  record Result(int exit, String output) {}

  private Result openssl(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("openssl finished").isTrue();
    return new Result(
        process.exitValue(),
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  private void write(String name, String pem) throws IOException {
    Files.writeString(dir.resolve(name), pem);
  }

  private IssuedCertificate workload(CertificateAuthority issuer) {
    return issuer.issueWorkload(
        WorkloadCsr.parse(
            Csrs.workloadCsrPem(KeyPairs.generate(KeyPairs.P256), SpiffeId.of("shop", "cart"))),
        Duration.ZERO);
  }

  @Test
  void opensslVerifiesTheWorkloadChainForClientAndServerUse() throws Exception {
    IssuedCertificate issued = workload(ca);
    write("root.pem", Pem.encode(ca.trustBundle().getFirst()));
    write("intermediate.pem", Pem.encode(issued.chain().get(1)));
    write("leaf.pem", Pem.encode(issued.leaf()));

    for (String purpose : List.of("sslclient", "sslserver")) {
      Result verify =
          openssl(
              "verify",
              "-purpose",
              purpose,
              "-CAfile",
              "root.pem",
              "-untrusted",
              "intermediate.pem",
              "leaf.pem");
      assertThat(verify.output()).contains("leaf.pem: OK");
      assertThat(verify.exit()).isZero();
    }
    Result text = openssl("x509", "-in", "leaf.pem", "-noout", "-text");
    assertThat(text.output())
        .contains("URI:spiffe://cluster.local/ns/shop/sa/cart")
        .contains("Digital Signature")
        .contains("TLS Web Server Authentication, TLS Web Client Authentication")
        .contains("CA:FALSE")
        .contains("ASN1 OID: prime256v1");
    Result intermediate = openssl("x509", "-in", "intermediate.pem", "-noout", "-text");
    assertThat(intermediate.output()).contains("CA:TRUE, pathlen:0").contains("Certificate Sign");
  }

  @Test
  void opensslRefusesTheChainUnderAnotherRoot() throws Exception {
    IssuedCertificate issued = workload(ca);
    write("other-root.pem", Pem.encode(TestCa.inMemory().trustBundle().getFirst()));
    write("intermediate.pem", Pem.encode(issued.chain().get(1)));
    write("leaf.pem", Pem.encode(issued.leaf()));
    Result verify =
        openssl(
            "verify", "-CAfile", "other-root.pem", "-untrusted", "intermediate.pem", "leaf.pem");
    assertThat(verify.exit()).isNotZero();
    assertThat(verify.output()).doesNotContain("leaf.pem: OK");
  }

  @Test
  void opensslVerifiesTheWebhookServingCertificateForItsServiceName() throws Exception {
    ServingCertificate serving =
        ServingCertificate.forControlPlane(ca, ServingCertificate.DEFAULT_TTL);
    write("root.pem", Pem.encode(ca.trustBundle().getFirst()));
    write("intermediate.pem", Pem.encode(serving.certificate().chain().get(1)));
    write("leaf.pem", Pem.encode(serving.certificate().leaf()));
    Result ok =
        openssl(
            "verify",
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "meshwork-control-plane.meshwork-system.svc",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "intermediate.pem",
            "leaf.pem");
    assertThat(ok.output()).contains("leaf.pem: OK");
    Result wrongHost =
        openssl(
            "verify",
            "-verify_hostname",
            "evil.example.com",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "intermediate.pem",
            "leaf.pem");
    assertThat(wrongHost.exit()).isNotZero();
  }

  @Test
  void rotationOverlapBundleVerifiesLeavesOfBothRoots() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.start(
            CaConfig.defaults().withRootPropagation(Duration.ofMillis(1)),
            new InMemoryCaStore(),
            Clock.systemUTC());
    IssuedCertificate before = workload(ca);
    ca.rotateRoot();
    Thread.sleep(5);
    ca.maintain(); // the new generation signs from here
    IssuedCertificate after = workload(ca);
    assertThat(after.chain().get(1)).isNotEqualTo(before.chain().get(1));
    write("bundle.pem", Pem.encodeAll(ca.trustBundle()));
    write("old-chain.pem", Pem.encode(before.chain().get(1)));
    write("old-leaf.pem", Pem.encode(before.leaf()));
    write("new-chain.pem", Pem.encode(after.chain().get(1)));
    write("new-leaf.pem", Pem.encode(after.leaf()));
    assertThat(
            openssl(
                    "verify",
                    "-CAfile",
                    "bundle.pem",
                    "-untrusted",
                    "old-chain.pem",
                    "old-leaf.pem")
                .output())
        .contains("old-leaf.pem: OK");
    assertThat(
            openssl(
                    "verify",
                    "-CAfile",
                    "bundle.pem",
                    "-untrusted",
                    "new-chain.pem",
                    "new-leaf.pem")
                .output())
        .contains("new-leaf.pem: OK");
  }
}
