package dev.meshwork.e2e.mesh;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;

/**
 * What the mesh scenarios need from a cluster, so the same scenarios run on the process harness and
 * on k3s: the mesh installed, a meshed namespace with three greeter replicas (two {@code v1}, one
 * {@code v2}) behind the Services {@code greeter}, {@code greeter-v1}, {@code greeter-v2} and a
 * meshed caller, and an unmeshed namespace with a plain caller.
 */
public interface Testbed {
  /** The greeters' gRPC port (Service port and container port). */
  int GREETER_PORT = 50051;

  KubernetesClient client();

  /** The namespace labelled for injection, where the greeters and the meshed caller run. */
  String meshNamespace();

  /** A namespace without injection, with the plain (unmeshed) caller. */
  String plainNamespace();

  /** {@code <ClusterIP>:<port>} of a Service of the meshed namespace. */
  String serviceAddress(String service);

  /** {@code <podIP>:<port>} of a greeter pod. */
  String podAddress(String pod);

  /** The greeter pods' names, e.g. for per-instance counts. */
  java.util.List<String> greeterPods();

  /** Server-side applies a YAML document (as {@code kubectl apply --server-side}). */
  void apply(String yaml);

  /** Deletes what a YAML document names, if present. */
  void delete(String yaml);

  /**
   * Makes {@code calls} unary calls from a caller's app container to {@code target} over one
   * channel.
   *
   * @param header {@code name:value} to send with each call, or null
   * @param fresh a new connection for these calls only
   */
  Calls call(Caller from, String target, int calls, String header, boolean fresh);

  /** Like {@link #call}, with the calls' {@code :authority} set to {@code authority}. */
  Calls callWithAuthority(Caller from, String target, String authority, int calls);

  /** Logs worth reading when a scenario fails. */
  String diagnostics();

  /** Which caller app makes the calls. */
  enum Caller {
    /** The caller pod in the meshed namespace (its calls go through its sidecar). */
    MESHED,
    /** The caller pod in the unmeshed namespace (plaintext, no sidecar). */
    PLAIN
  }

  /** What a batch of calls saw: successes per instance and version, failures per status code. */
  record Calls(
      long calls,
      long ok,
      long mtls,
      Map<String, Long> instances,
      Map<String, Long> versions,
      Map<String, Long> errors,
      String lastError) {
    public Calls {
      instances = Map.copyOf(instances);
      versions = Map.copyOf(versions);
      errors = Map.copyOf(errors);
    }

    public long version(String v) {
      return versions.getOrDefault(v, 0L);
    }
  }
}
