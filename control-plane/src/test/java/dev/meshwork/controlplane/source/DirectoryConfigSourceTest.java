package dev.meshwork.controlplane.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.meshwork.controlplane.model.RawConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class DirectoryConfigSourceTest {

  static final String SERVICES =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: a}
      spec: {ports: [{port: 80}]}
      ---
      # a comment-only document is skipped
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: b, namespace: other}
      spec: {ports: [{port: 81}]}
      ---
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: ignored}
      """;

  static final String ROUTE =
      """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GRPCRoute
      metadata: {name: r}
      spec:
        parentRefs: [{group: "", kind: Service, name: a}]
      ---
      apiVersion: security.meshwork.dev/v1alpha1
      kind: PeerAuthentication
      metadata: {name: strict, namespace: meshwork-system}
      spec: {mtls: {mode: STRICT}}
      """;

  @TempDir Path dir;

  @Test
  void readsMultiDocumentFilesAndFollowsEdits() throws Exception {
    Files.writeString(dir.resolve("services.yaml"), SERVICES);
    Files.writeString(dir.resolve("route.yml"), ROUTE);
    Files.writeString(dir.resolve("notes.txt"), "not yaml");
    AtomicReference<RawConfig> seen = new AtomicReference<>();
    AtomicInteger calls = new AtomicInteger();
    try (DirectoryConfigSource source = new DirectoryConfigSource(dir, Duration.ofMillis(50))) {
      source.start(
          raw -> {
            seen.set(raw);
            calls.incrementAndGet();
          });
      await().until(() -> seen.get() != null);
      RawConfig first = seen.get();
      assertThat(first.services())
          .extracting(s -> s.getMetadata().getNamespace() + "/" + s.getMetadata().getName())
          .containsExactlyInAnyOrder("default/a", "other/b");
      assertThat(first.grpcRoutes())
          .singleElement()
          .satisfies(r -> assertThat(r.getMetadata().getNamespace()).isEqualTo("default"));
      assertThat(first.peerAuthentications()).hasSize(1);

      // A broken edit keeps the file's last good content.
      Files.writeString(
          dir.resolve("services.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: [oops\n");
      int before = calls.get();
      await().until(() -> calls.get() > before);
      assertThat(seen.get().services()).hasSize(2);

      // A good edit is picked up; a deleted file takes its objects with it.
      Files.writeString(
          dir.resolve("services.yaml"),
          "apiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec: {ports: [{port: 82}]}\n");
      Files.delete(dir.resolve("route.yml"));
      await()
          .untilAsserted(
              () -> {
                assertThat(seen.get().services())
                    .extracting(s -> s.getMetadata().getName())
                    .containsExactly("c");
                assertThat(seen.get().grpcRoutes()).isEmpty();
              });
    }
  }

  @Test
  void aMissingFolderIsANamedError() {
    try (DirectoryConfigSource source =
        new DirectoryConfigSource(dir.resolve("nope"), Duration.ofMillis(50))) {
      assertThatThrownBy(() -> source.start(raw -> {}))
          .isInstanceOf(ConfigSource.ConfigSourceException.class)
          .hasMessageContaining("nope");
    }
  }

  @Test
  void yamlReportsTheBadDocumentAndKeepsTheOthers() {
    var docs =
        new YamlResources()
            .parse(
                "apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n---\nkind: Nope\nfoo: bar\n");
    assertThat(docs).hasSize(2);
    assertThat(docs.get(0).object().getMetadata().getName()).isEqualTo("ok");
    assertThat(docs.get(1).error()).contains("document 1");
  }

  static final String STRICT_PA =
      """
      apiVersion: security.meshwork.dev/v1alpha1
      kind: PeerAuthentication
      metadata: {name: greeter-mtls, namespace: demo}
      spec:
        selector: {matchLabels: {app: greeter}}
        mtls: {mode: STRICT}
      """;

  @Test
  void aMalformedPeerAuthenticationFileIsLoggedAndTheLastGoodStays() throws Exception {
    ch.qos.logback.classic.Logger sourceLog =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(DirectoryConfigSource.class);
    ch.qos.logback.classic.Logger modelLog =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(
                dev.meshwork.controlplane.model.MeshModelBuilder.class);
    var logs =
        new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    logs.start();
    sourceLog.addAppender(logs);
    modelLog.addAppender(logs);
    Path file = dir.resolve("mtls.yaml");
    Files.writeString(file, STRICT_PA);
    // What the control plane does with each set: build the model (last good per policy).
    var builder = new dev.meshwork.controlplane.model.MeshModelBuilder("cluster.local");
    AtomicReference<dev.meshwork.controlplane.model.MeshModelBuilder.Result> built =
        new AtomicReference<>();
    AtomicInteger calls = new AtomicInteger();
    try (DirectoryConfigSource source = new DirectoryConfigSource(dir, Duration.ofMillis(50))) {
      source.start(
          raw -> {
            built.set(builder.build(raw));
            calls.incrementAndGet();
          });
      await().until(() -> built.get() != null);
      assertThat(modesInForce(built.get())).containsExactly("STRICT");

      // A mode the CRD does not know: the file does not parse, its last good content stays, and
      // the policy it names is reported as unreadable (what /debug/policies shows), not as the
      // accepted old version.
      int before = calls.get();
      Files.writeString(file, STRICT_PA.replace("mode: STRICT", "mode: STRICTEST"));
      await().until(() -> calls.get() > before);
      assertThat(modesInForce(built.get())).containsExactly("STRICT");
      assertThat(built.get().policyReports())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.name()).isEqualTo("greeter-mtls");
                assertThat(r.accepted()).isFalse();
                assertThat(r.reason()).isEqualTo("Invalid");
                assertThat(r.message())
                    .startsWith("spec cannot be read: ")
                    .contains("STRICTEST")
                    .endsWith("(the last good version stays in force)");
                assertThat(r.inForce()).isTrue();
              });
      assertThat(logs.list)
          .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .anySatisfy(
              m ->
                  assertThat(m)
                      .contains("mtls.yaml rejected, its last good content stays in force")
                      .contains("STRICTEST"))
          .anySatisfy(
              m ->
                  assertThat(m)
                      .startsWith(
                          "PeerAuthentication demo/greeter-mtls rejected (spec cannot be read")
                      .endsWith("the last good version stays in force"));

      // Parses, but Istio would refuse it: the model keeps the last good version and says why.
      int again = calls.get();
      Files.writeString(
          file,
          STRICT_PA.replace("mode: STRICT", "mode: DISABLE")
              + "  portLevelMtls: {\"http\": {mode: DISABLE}}\n");
      await().until(() -> calls.get() > again);
      assertThat(modesInForce(built.get())).containsExactly("STRICT");
      assertThat(built.get().policyReports())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.accepted()).isFalse();
                assertThat(r.inForce()).isTrue();
              });
      assertThat(logs.list)
          .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .anySatisfy(
              m ->
                  assertThat(m)
                      .startsWith("PeerAuthentication demo/greeter-mtls rejected")
                      .contains("spec.portLevelMtls[\"http\"]: the key must be a port number")
                      .endsWith("the last good version stays in force"));
    } finally {
      sourceLog.detachAppender(logs);
      modelLog.detachAppender(logs);
    }
  }

  @Test
  void anUnreadablePolicyThatWasNeverGoodIsReportedAndNotApplied() throws Exception {
    Files.writeString(
        dir.resolve("mtls.yaml"),
        SERVICES
            + "---\n"
            + STRICT_PA.replace("mode: STRICT", "mode: SOMETIMES")
            + "---\n"
            + "apiVersion: security.meshwork.dev/v1alpha1\n"
            + "kind: PeerAuthentication\n"
            + "metadata: {name: no-namespace}\n"
            + "spec: {mtls: {mode: NEVER}}\n");
    var builder = new dev.meshwork.controlplane.model.MeshModelBuilder("cluster.local");
    AtomicReference<dev.meshwork.controlplane.model.MeshModelBuilder.Result> built =
        new AtomicReference<>();
    try (DirectoryConfigSource source = new DirectoryConfigSource(dir, Duration.ofMillis(50))) {
      source.start(raw -> built.set(builder.build(raw)));
      await().until(() -> built.get() != null);
      // The file is refused whole (its Services too); the policies it names are told apart.
      assertThat(built.get().model().peerAuthentications()).isEmpty();
      assertThat(built.get().model().services()).isEmpty();
      assertThat(built.get().policyReports())
          .extracting(r -> r.namespace() + "/" + r.name() + " " + r.accepted() + " " + r.inForce())
          .containsExactly("default/no-namespace false false", "demo/greeter-mtls false false");
      assertThat(built.get().policyReports())
          .allSatisfy(
              r -> assertThat(r.message()).endsWith("(no earlier valid version: not applied)"));
    }
  }

  private static java.util.List<String> modesInForce(
      dev.meshwork.controlplane.model.MeshModelBuilder.Result result) {
    return result.model().peerAuthentications().stream()
        .map(p -> p.getSpec().mtls().mode().name())
        .toList();
  }
}
