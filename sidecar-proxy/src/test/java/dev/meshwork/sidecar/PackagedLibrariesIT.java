package dev.meshwork.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packaged sidecar's {@code lib/} (what {@code java -jar target/sidecar-proxy.jar}, {@code
 * meshctl demo} and {@code bench/run} start) holds no signed jar: classes of signed jars are
 * verified at every load and cannot go into the AOT cache. BouncyCastle's copies keep what makes
 * them work: their classes and the multi-release layout.
 */
class PackagedLibrariesIT {
  private static final Path LIB = Path.of("target/lib");

  @Test
  void noJarInLibCarriesASignature() throws IOException {
    List<Path> jars;
    try (Stream<Path> s = Files.list(LIB)) {
      jars = s.filter(p -> p.toString().endsWith(".jar")).toList();
    }
    assertThat(jars).as("jars in %s", LIB).isNotEmpty();
    for (Path jar : jars) {
      try (JarFile f = new JarFile(jar.toFile())) {
        assertThat(
                f.stream()
                    .map(e -> e.getName())
                    .filter(n -> n.matches("META-INF/[^/]+\\.(SF|RSA|DSA|EC)")))
            .as("signature files in %s", jar.getFileName())
            .isEmpty();
      }
    }
  }

  @Test
  void bouncyCastleStaysAMultiReleaseJarWithItsClasses() throws IOException {
    Path bcprov;
    try (Stream<Path> s = Files.list(LIB)) {
      bcprov =
          s.filter(p -> p.getFileName().toString().startsWith("bcprov-")).findFirst().orElseThrow();
    }
    try (JarFile f = new JarFile(bcprov.toFile(), true, JarFile.OPEN_READ, Runtime.version())) {
      assertThat(f.isMultiRelease()).isTrue();
      assertThat(f.getEntry("org/bouncycastle/asn1/ASN1Object.class")).isNotNull();
      assertThat(f.stream().anyMatch(e -> e.getName().startsWith("META-INF/versions/"))).isTrue();
    }
  }
}
