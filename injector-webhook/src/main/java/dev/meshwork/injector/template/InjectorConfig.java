package dev.meshwork.injector.template;

import dev.meshwork.api.MeshConstants;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

/**
 * Static configuration of the injector: what it puts into every pod unless a pod's annotations say
 * otherwise.
 *
 * @param sidecarImage image of the sidecar; the init container runs the same image with {@code
 *     capture}, so there is one image to trust
 * @param imagePullPolicy {@code IfNotPresent}, {@code Always} or {@code Never}
 * @param controlPlaneAddress {@code host:port} of the control plane's gRPC TLS port (ADS and CA)
 * @param trustDomain SPIFFE trust domain handed to the sidecar
 * @param proxyArgs arguments of the sidecar container before {@code --xds=<controlPlaneAddress>}
 *     (the image's entry point is the sidecar main, whose default command is {@code run})
 * @param proxyResources sidecar resources unless the pod's annotations override them
 * @param initResources resources of the capture init container
 * @param tokenExpirationSeconds lifetime of the projected CA token; the kubelet refreshes it at 80%
 */
public record InjectorConfig(
    String sidecarImage,
    String imagePullPolicy,
    String controlPlaneAddress,
    String trustDomain,
    List<String> proxyArgs,
    Resources proxyResources,
    Resources initResources,
    long tokenExpirationSeconds) {

  /** Classpath resource filtered by Maven from the root pom's {@code meshwork.image.*}. */
  public static final String IMAGES_RESOURCE = "/dev/meshwork/injector/meshwork-images.properties";

  public static final String DEFAULT_CONTROL_PLANE_ADDRESS =
      "meshwork-control-plane."
          + MeshConstants.SYSTEM_NAMESPACE
          + ".svc:"
          + MeshConstants.CONTROL_PLANE_GRPC_PORT;

  public InjectorConfig {
    Objects.requireNonNull(sidecarImage, "sidecarImage");
    Objects.requireNonNull(imagePullPolicy, "imagePullPolicy");
    Objects.requireNonNull(controlPlaneAddress, "controlPlaneAddress");
    Objects.requireNonNull(trustDomain, "trustDomain");
    proxyArgs = List.copyOf(proxyArgs);
    Objects.requireNonNull(proxyResources, "proxyResources");
    Objects.requireNonNull(initResources, "initResources");
    if (sidecarImage.isBlank() || sidecarImage.contains("${")) {
      throw new IllegalArgumentException(
          "sidecar image '" + sidecarImage + "' is not set (was the resource filtered by Maven?)");
    }
    // The API server refuses projected tokens shorter than 10 minutes.
    if (tokenExpirationSeconds < 600) {
      throw new IllegalArgumentException(
          "tokenExpirationSeconds must be at least 600, got " + tokenExpirationSeconds);
    }
  }

  /** The defaults, with the sidecar image named by the build. */
  public static InjectorConfig defaults() {
    return new InjectorConfig(
        bundledSidecarImage(),
        "IfNotPresent",
        DEFAULT_CONTROL_PLANE_ADDRESS,
        MeshConstants.DEFAULT_TRUST_DOMAIN,
        List.of("run"),
        Resources.PROXY_DEFAULT,
        Resources.INIT_DEFAULT,
        3600);
  }

  /** A copy with another sidecar image. */
  public InjectorConfig withSidecarImage(String image) {
    return new InjectorConfig(
        image,
        imagePullPolicy,
        controlPlaneAddress,
        trustDomain,
        proxyArgs,
        proxyResources,
        initResources,
        tokenExpirationSeconds);
  }

  /** A copy with another control plane address. */
  public InjectorConfig withControlPlaneAddress(String address) {
    return new InjectorConfig(
        sidecarImage,
        imagePullPolicy,
        address,
        trustDomain,
        proxyArgs,
        proxyResources,
        initResources,
        tokenExpirationSeconds);
  }

  /** A copy with another SPIFFE trust domain (the control plane's {@code --trust-domain}). */
  public InjectorConfig withTrustDomain(String domain) {
    return new InjectorConfig(
        sidecarImage,
        imagePullPolicy,
        controlPlaneAddress,
        domain,
        proxyArgs,
        proxyResources,
        initResources,
        tokenExpirationSeconds);
  }

  /**
   * The sidecar's JVM flags this build was made with ({@code meshwork.sidecar.jvmFlags} in the root
   * pom), the same value the image's {@code JDK_JAVA_OPTIONS} carries.
   */
  public static String bundledSidecarJvmFlags() {
    return bundled("sidecar.jvmFlags");
  }

  /** The sidecar image this build was made with ({@code meshwork.image.*} in the root pom). */
  public static String bundledSidecarImage() {
    return bundled("sidecar.image");
  }

  private static String bundled(String key) {
    try (InputStream in = InjectorConfig.class.getResourceAsStream(IMAGES_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing classpath resource " + IMAGES_RESOURCE);
      }
      Properties props = new Properties();
      props.load(in);
      String value = props.getProperty(key);
      if (value == null || value.contains("${")) {
        throw new IllegalStateException(
            key + " missing or unfiltered in " + IMAGES_RESOURCE + ": " + value);
      }
      return value.strip();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + IMAGES_RESOURCE, e);
    }
  }
}
