package dev.meshwork.controlplane.model;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import javax.annotation.concurrent.NotThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a {@link RawConfig} into a {@link MeshModel}: resolves endpoints, validates GRPCRoutes and
 * PeerAuthentications and keeps, per route and per policy, the last version that was valid, so a
 * bad edit never takes working routing or mTLS away.
 *
 * <p>Stateful (the last-good maps and what was already logged): confine it to one thread, the
 * control plane's model thread.
 */
@NotThreadSafe
public final class MeshModelBuilder {
  private static final Logger log = LoggerFactory.getLogger(MeshModelBuilder.class);

  /** The label EndpointSlices carry to name their Service. */
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  private final String trustDomain;
  private final RouteValidator validator = new RouteValidator();
  private final Map<String, AttachedRoute> lastGood = new HashMap<>();
  private final RejectionLog rejections = new RejectionLog();
  private final LastGoodPolicies<PeerAuthentication> peerAuthentications =
      new LastGoodPolicies<>(
          "PeerAuthentication", PeerAuthenticationValidator::problems, rejections);
  // Not validated yet (their translation is still to come): only an unreadable version is bad.
  private final LastGoodPolicies<AuthorizationPolicy> authorizationPolicies =
      new LastGoodPolicies<>("AuthorizationPolicy", p -> List.of(), rejections);
  private final LastGoodPolicies<TrafficPolicy> trafficPolicies =
      new LastGoodPolicies<>("TrafficPolicy", p -> List.of(), rejections);
  private long generation;

  public MeshModelBuilder(String trustDomain) {
    this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
  }

  /**
   * A model and the verdicts that went into it.
   *
   * @param reports one per GRPCRoute attached to a Service
   * @param policyReports one per PeerAuthentication (the policy kinds that are validated)
   */
  public record Result(
      MeshModel model, List<RouteReport> reports, List<PolicyReport> policyReports) {
    public Result {
      reports = List.copyOf(reports);
      policyReports = List.copyOf(policyReports);
    }
  }

  /** Builds the next model. Never throws on bad objects: they are reported and skipped. */
  public Result build(RawConfig raw) {
    Map<String, Workload> workloads = new HashMap<>();
    Map<String, Pod> pods = new HashMap<>();
    for (Pod pod : raw.pods()) {
      Workload w = toWorkload(pod);
      if (w != null) {
        workloads.put(w.key(), w);
        pods.put(w.key(), pod);
      }
    }
    Map<String, List<EndpointSlice>> slicesByService = new HashMap<>();
    for (EndpointSlice slice : raw.endpointSlices()) {
      Map<String, String> labels = slice.getMetadata().getLabels();
      String svc = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
      if (svc != null) {
        slicesByService
            .computeIfAbsent(slice.getMetadata().getNamespace() + "/" + svc, k -> new ArrayList<>())
            .add(slice);
      }
    }
    TreeMap<ServiceKey, MeshService> services = new TreeMap<>();
    for (Service svc : raw.services()) {
      MeshService ms = toService(svc, slicesByService, workloads, pods);
      if (ms != null) {
        services.put(ms.key(), ms);
      }
    }

    List<RouteReport> reports = new ArrayList<>();
    Set<String> present = new HashSet<>();
    for (GRPCRoute route : raw.grpcRoutes()) {
      String key = route.getMetadata().getNamespace() + "/" + route.getMetadata().getName();
      present.add(key);
      RouteValidator.Outcome verdict = validator.validate(route, services);
      if (verdict.parents().isEmpty()) {
        continue; // only Gateway parents: not a mesh route, not ours to report on
      }
      if (verdict.valid()) {
        lastGood.put(key, new AttachedRoute(route, verdict.attachments()));
        rejections.accepted("GRPCRoute", key);
      } else {
        logRejection(key, route, verdict);
      }
      reports.add(
          new RouteReport(
              route.getMetadata().getNamespace(),
              route.getMetadata().getName(),
              generationOf(route),
              verdict.parents(),
              lastGood.containsKey(key)));
    }
    lastGood.keySet().retainAll(present);
    rejections.retain("GRPCRoute", present);
    LastGoodPolicies.Judged<PeerAuthentication> pas =
        peerAuthentications.judge(raw.peerAuthentications(), raw.unreadable());
    LastGoodPolicies.Judged<AuthorizationPolicy> aps =
        authorizationPolicies.judge(raw.authorizationPolicies(), raw.unreadable());
    LastGoodPolicies.Judged<TrafficPolicy> tps =
        trafficPolicies.judge(raw.trafficPolicies(), raw.unreadable());

    Map<String, Map<String, String>> nsLabels = new HashMap<>();
    for (Namespace ns : raw.namespaces()) {
      Map<String, String> labels = ns.getMetadata().getLabels();
      nsLabels.put(ns.getMetadata().getName(), labels == null ? Map.of() : Map.copyOf(labels));
    }
    List<AttachedRoute> routes = new ArrayList<>(lastGood.values());
    routes.sort(
        java.util.Comparator.comparing(AttachedRoute::namespace)
            .thenComparing(AttachedRoute::name));
    MeshModel model =
        new MeshModel(
            ++generation,
            trustDomain,
            services,
            workloads,
            routes,
            pas.inForce(),
            aps.inForce(),
            tps.inForce(),
            nsLabels);
    return new Result(model, reports, pas.reports());
  }

  private void logRejection(String key, GRPCRoute route, RouteValidator.Outcome verdict) {
    String problems =
        verdict.parents().stream()
            .flatMap(p -> java.util.stream.Stream.of(p.accepted(), p.resolvedRefs()))
            .filter(v -> !v.status())
            .map(v -> v.reason() + ": " + v.message())
            .distinct()
            .reduce((a, b) -> a + "; " + b)
            .orElse("");
    rejections.rejected(
        "GRPCRoute", key, route.getMetadata().getGeneration(), problems, lastGood.containsKey(key));
  }

  static long generationOf(HasMetadata obj) {
    Long g = obj.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }

  private static Workload toWorkload(Pod pod) {
    if (pod.getStatus() == null || pod.getMetadata() == null) {
      return null;
    }
    String phase = pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return null;
    }
    List<String> ips = new ArrayList<>();
    if (pod.getStatus().getPodIPs() != null) {
      for (PodIP ip : pod.getStatus().getPodIPs()) {
        if (ip.getIp() != null && !ips.contains(ip.getIp())) {
          ips.add(ip.getIp());
        }
      }
    }
    String primary = pod.getStatus().getPodIP();
    if (primary != null && !ips.contains(primary)) {
      ips.addFirst(primary);
    }
    if (ips.isEmpty()) {
      return null; // not scheduled yet: nothing to route to
    }
    Map<String, String> labels =
        pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
    List<Integer> ports = new ArrayList<>();
    boolean sidecar = false;
    if (pod.getSpec() != null && pod.getSpec().getContainers() != null) {
      for (Container c : pod.getSpec().getContainers()) {
        if (MeshConstants.SIDECAR_CONTAINER_NAME.equals(c.getName())) {
          sidecar = true;
          continue; // the sidecar's own ports are not application ports
        }
        if (c.getPorts() != null) {
          for (ContainerPort p : c.getPorts()) {
            if (p.getContainerPort() != null && !ports.contains(p.getContainerPort())) {
              ports.add(p.getContainerPort());
            }
          }
        }
      }
    }
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    boolean injected =
        annotations != null && "true".equals(annotations.get(MeshConstants.INJECTED_ANNOTATION));
    String sa =
        pod.getSpec() == null || pod.getSpec().getServiceAccountName() == null
            ? "default"
            : pod.getSpec().getServiceAccountName();
    String name = pod.getMetadata().getName();
    return new Workload(
        pod.getMetadata().getNamespace() == null ? "default" : pod.getMetadata().getNamespace(),
        name,
        labels.getOrDefault("app", name),
        labels,
        sa,
        ips,
        ports,
        sidecar || injected);
  }

  private static boolean podReady(Pod pod) {
    List<PodCondition> conditions = pod.getStatus().getConditions();
    if (conditions == null || conditions.isEmpty()) {
      return true; // hand-written (demo) pods carry no conditions: an IP means ready
    }
    return conditions.stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static MeshService toService(
      Service svc,
      Map<String, List<EndpointSlice>> slicesByService,
      Map<String, Workload> workloads,
      Map<String, Pod> pods) {
    if (svc.getSpec() == null || svc.getSpec().getPorts() == null) {
      return null;
    }
    String ns =
        svc.getMetadata().getNamespace() == null ? "default" : svc.getMetadata().getNamespace();
    ServiceKey key = new ServiceKey(ns, svc.getMetadata().getName());
    List<ServicePort> ports = new ArrayList<>();
    for (io.fabric8.kubernetes.api.model.ServicePort p : svc.getSpec().getPorts()) {
      if (p.getPort() == null || (p.getProtocol() != null && !"TCP".equals(p.getProtocol()))) {
        continue;
      }
      IntOrString target = p.getTargetPort();
      Integer targetNumber = target == null ? null : target.getIntVal();
      String targetName = target == null ? null : target.getStrVal();
      if (targetNumber == null && targetName != null && targetName.matches("\\d+")) {
        targetNumber = Integer.parseInt(targetName); // "8080" written as a string
        targetName = null;
      }
      ports.add(
          new ServicePort(p.getName(), p.getPort(), targetNumber, targetName, p.getAppProtocol()));
    }
    Map<String, String> selector =
        svc.getSpec().getSelector() == null ? Map.of() : svc.getSpec().getSelector();
    Map<Integer, List<Endpoint>> endpoints = new LinkedHashMap<>();
    List<EndpointSlice> slices = slicesByService.get(key.toString());
    if (slices != null) {
      for (EndpointSlice slice : slices) {
        addSliceEndpoints(ns, slice, ports, workloads, endpoints);
      }
    } else if (!selector.isEmpty()) {
      for (Map.Entry<String, Workload> e : workloads.entrySet()) {
        Workload w = e.getValue();
        if (!w.namespace().equals(ns) || !selectorMatches(selector, w.labels())) {
          continue;
        }
        Pod pod = pods.get(e.getKey());
        for (ServicePort sp : ports) {
          Integer target = resolveTargetPort(sp, pod);
          if (target == null) {
            continue;
          }
          endpoints
              .computeIfAbsent(sp.port(), k -> new ArrayList<>())
              .add(endpointOf(w, w.ips().getFirst(), target, podReady(pod)));
        }
      }
    }
    endpoints.replaceAll(
        (k, v) ->
            v.stream()
                .sorted(java.util.Comparator.comparing(Endpoint::ip).thenComparing(Endpoint::port))
                .toList());
    return new MeshService(key, ports, clusterIps(svc), selector, endpoints);
  }

  /**
   * The Service's virtual IPs: {@code spec.clusterIPs}, else {@code spec.clusterIP}. "None"
   * (headless) and anything that is not an IP literal (a hand-written folder typo) yield nothing; a
   * typo is logged, since calls to that address would otherwise miss their routes silently.
   */
  private static List<String> clusterIps(Service svc) {
    List<String> declared = new ArrayList<>();
    if (svc.getSpec().getClusterIPs() != null) {
      declared.addAll(svc.getSpec().getClusterIPs());
    }
    if (svc.getSpec().getClusterIP() != null) {
      declared.add(svc.getSpec().getClusterIP());
    }
    List<String> ips = new ArrayList<>();
    for (String ip : declared) {
      if (ip == null || ip.isBlank() || "None".equals(ip)) {
        continue;
      }
      try {
        InetAddress.ofLiteral(ip.strip()); // validates only; no DNS
        // Kept as written: the API server stores the canonical form clients dial.
        String literal = ip.strip().toLowerCase(java.util.Locale.ROOT);
        if (!ips.contains(literal)) {
          ips.add(literal);
        }
      } catch (IllegalArgumentException e) {
        log.warn(
            "Service {}/{}: clusterIP '{}' is not an IP address; ignored",
            svc.getMetadata().getNamespace(),
            svc.getMetadata().getName(),
            ip);
      }
    }
    return ips;
  }

  private static void addSliceEndpoints(
      String ns,
      EndpointSlice slice,
      List<ServicePort> ports,
      Map<String, Workload> workloads,
      Map<Integer, List<Endpoint>> out) {
    if (slice.getEndpoints() == null || slice.getPorts() == null) {
      return;
    }
    for (EndpointPort ep : slice.getPorts()) {
      String portName = ep.getName() == null ? "" : ep.getName();
      ServicePort sp =
          ports.stream().filter(p -> p.name().equals(portName)).findFirst().orElse(null);
      if (sp == null || ep.getPort() == null) {
        continue;
      }
      for (io.fabric8.kubernetes.api.model.discovery.v1.Endpoint e : slice.getEndpoints()) {
        boolean ready =
            e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady());
        Workload w = null;
        if (e.getTargetRef() != null && "Pod".equals(e.getTargetRef().getKind())) {
          String podNs =
              e.getTargetRef().getNamespace() == null ? ns : e.getTargetRef().getNamespace();
          w = workloads.get(podNs + "/" + e.getTargetRef().getName());
        }
        if (e.getAddresses() == null) {
          continue;
        }
        for (String address : e.getAddresses()) {
          Endpoint endpoint =
              w != null
                  ? endpointOf(w, address, ep.getPort(), ready)
                  : new Endpoint(address, ep.getPort(), ns, "", "", "", "", false, ready);
          out.computeIfAbsent(sp.port(), k -> new ArrayList<>()).add(endpoint);
        }
      }
    }
  }

  private static Endpoint endpointOf(Workload w, String ip, int port, boolean ready) {
    return new Endpoint(
        ip,
        port,
        w.namespace(),
        w.pod(),
        w.workloadName(),
        w.labels().getOrDefault("version", ""),
        w.serviceAccount(),
        w.meshed(),
        ready);
  }

  private static Integer resolveTargetPort(ServicePort sp, Pod pod) {
    if (sp.targetPortNumber() != null) {
      return sp.targetPortNumber();
    }
    if (sp.targetPortName() == null) {
      return sp.port();
    }
    if (pod.getSpec() != null && pod.getSpec().getContainers() != null) {
      for (Container c : pod.getSpec().getContainers()) {
        if (c.getPorts() == null) {
          continue;
        }
        for (ContainerPort p : c.getPorts()) {
          if (sp.targetPortName().equals(p.getName())) {
            return p.getContainerPort();
          }
        }
      }
    }
    return null; // the pod does not declare the named port: the endpoints controller skips it too
  }

  static boolean selectorMatches(Map<String, String> selector, Map<String, String> labels) {
    return selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }
}
