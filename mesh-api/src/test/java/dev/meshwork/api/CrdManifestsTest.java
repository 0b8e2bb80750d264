package dev.meshwork.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CRDs users apply (manifests/crds) and the classes the control plane reads them with must name
 * the same group, version, kind and plural, or the informers would watch a resource that is not
 * there.
 */
class CrdManifestsTest {

  private static final Path CRDS = Path.of("..", "manifests", "crds");

  @ParameterizedTest
  @ValueSource(classes = {PeerAuthentication.class, AuthorizationPolicy.class, TrafficPolicy.class})
  void manifestMatchesClass(Class<? extends HasMetadata> type) throws IOException {
    String group = HasMetadata.getGroup(type);
    String plural = HasMetadata.getPlural(type);
    Path file = CRDS.resolve(group + "_" + plural + ".yaml");
    assertThat(file).exists();

    CustomResourceDefinition crd =
        Serialization.unmarshal(Files.readString(file), CustomResourceDefinition.class);
    assertThat(crd.getMetadata().getName()).isEqualTo(plural + "." + group);
    assertThat(crd.getSpec().getGroup()).isEqualTo(group);
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo(HasMetadata.getKind(type));
    assertThat(crd.getSpec().getNames().getPlural()).isEqualTo(plural);
    assertThat(crd.getSpec().getVersions())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getName()).isEqualTo(HasMetadata.getVersion(type));
              assertThat(v.getStorage()).isTrue();
              assertThat(v.getSchema().getOpenAPIV3Schema().getProperties()).containsKey("spec");
            });
  }

  @ParameterizedTest
  @ValueSource(strings = "yaml")
  void everyManifestIsACrdOfOurs(String extension) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(CRDS)) {
      files = s.filter(p -> p.toString().endsWith("." + extension)).toList();
    }
    assertThat(files).hasSize(3);
    for (Path f : files) {
      CustomResourceDefinition crd =
          Serialization.unmarshal(Files.readString(f), CustomResourceDefinition.class);
      assertThat(crd.getSpec().getGroup()).endsWith(".meshwork.dev");
    }
  }
}
