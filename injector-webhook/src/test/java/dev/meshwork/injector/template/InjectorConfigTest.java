package dev.meshwork.injector.template;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InjectorConfigTest {
  @Test
  void sidecarImageComesFromTheRootPomThroughTheFilteredResource() {
    String image = InjectorConfig.bundledSidecarImage();
    assertThat(image).doesNotContain("${").matches("[^\\s]+/sidecar-proxy:[^\\s]+");
  }
}
