package dev.meshwork.controlplane.testing;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.model.MeshModelBuilder;
import dev.meshwork.controlplane.model.RawConfig;
import dev.meshwork.controlplane.source.YamlResources;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import java.util.ArrayList;
import java.util.List;

/** Builds models from YAML text, the way users write config. */
public final class Meshes {
  private Meshes() {}

  private static final YamlResources YAML = new YamlResources();

  public static List<HasMetadata> objects(String yaml) {
    List<HasMetadata> out = new ArrayList<>();
    for (YamlResources.Document d : YAML.parse(yaml)) {
      if (d.error() != null) {
        throw new IllegalArgumentException(d.error());
      }
      if (d.object().getMetadata().getNamespace() == null && !(d.object() instanceof Namespace)) {
        d.object().getMetadata().setNamespace("default");
      }
      out.add(d.object());
    }
    return out;
  }

  public static RawConfig raw(String yaml) {
    List<Service> s = new ArrayList<>();
    List<EndpointSlice> e = new ArrayList<>();
    List<Pod> p = new ArrayList<>();
    List<Namespace> n = new ArrayList<>();
    List<GRPCRoute> r = new ArrayList<>();
    List<PeerAuthentication> pa = new ArrayList<>();
    List<AuthorizationPolicy> ap = new ArrayList<>();
    List<TrafficPolicy> tp = new ArrayList<>();
    for (HasMetadata o : objects(yaml)) {
      switch (o) {
        case Service x -> s.add(x);
        case EndpointSlice x -> e.add(x);
        case Pod x -> p.add(x);
        case Namespace x -> n.add(x);
        case GRPCRoute x -> r.add(x);
        case PeerAuthentication x -> pa.add(x);
        case AuthorizationPolicy x -> ap.add(x);
        case TrafficPolicy x -> tp.add(x);
        default -> throw new IllegalArgumentException("unexpected " + o.getKind());
      }
    }
    return new RawConfig(s, e, p, n, r, pa, ap, tp);
  }

  public static MeshModel model(String yaml) {
    return new MeshModelBuilder("cluster.local").build(raw(yaml)).model();
  }

  /** A Service with one gRPC port 8080 selecting {@code app=<name>}. */
  public static String service(String name, int port) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: default}
        spec:
          selector: {app: %s}
          ports: [{name: grpc, port: %d, targetPort: %d}]
        ---
        """
        .formatted(name, name, port, port);
  }

  /** A running pod with an IP, labels {@code app=<app>, version=<version>}. */
  public static String pod(
      String name, String app, String version, String ip, int port, boolean meshed) {
    return """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          namespace: default
          labels: {app: %s, version: %s}
          annotations: {"meshwork.dev/injected": "%s"}
        spec:
          serviceAccountName: %s
          containers: [{name: app, image: demo, ports: [{containerPort: %d, name: grpc}]}]
        status: {phase: Running, podIP: %s}
        ---
        """
        .formatted(name, app, version, meshed, app, port, ip);
  }

  /**
   * A PeerAuthentication with a mode this control plane cannot read ({@code SOMETIMES}), untyped:
   * what an API server stores under a newer CRD. fabric8's mock server has no schema to refuse it.
   */
  public static io.fabric8.kubernetes.api.model.GenericKubernetesResource
      unreadablePeerAuthentication(String namespace, String name) {
    return new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
        .withApiVersion("security.meshwork.dev/v1alpha1")
        .withKind("PeerAuthentication")
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .endMetadata()
        .withAdditionalProperties(
            java.util.Map.of(
                "spec", java.util.Map.of("mtls", java.util.Map.of("mode", "SOMETIMES"))))
        .build();
  }
}
