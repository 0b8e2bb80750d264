package dev.meshwork.sidecar.route;

/** A cluster a route sends to, with its share of the route's total weight (at least 1). */
public record WeightedCluster(String name, int weight) {
  public WeightedCluster {
    if (weight < 1) {
      throw new IllegalArgumentException("weight must be >= 1: " + weight);
    }
  }
}
