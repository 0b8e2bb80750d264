package dev.meshwork.controlplane.model;

import java.util.Objects;

/** A Service's namespace and name; its DNS name is the mesh-wide key of its xDS resources. */
public record ServiceKey(String namespace, String name) implements Comparable<ServiceKey> {

  /** The cluster DNS domain; Meshwork does not support another one yet. */
  public static final String CLUSTER_DOMAIN = "cluster.local";

  public ServiceKey {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  /** {@code <name>.<namespace>.svc.cluster.local}. */
  public String fqdn() {
    return name + "." + namespace + ".svc." + CLUSTER_DOMAIN;
  }

  @Override
  public int compareTo(ServiceKey o) {
    int c = namespace.compareTo(o.namespace);
    return c != 0 ? c : name.compareTo(o.name);
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
