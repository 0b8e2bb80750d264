package dev.meshwork.sidecar.lb;

import dev.meshwork.sidecar.cluster.Endpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Filters candidates: healthy, not ejected, not yet tried; falls back when that leaves none. */
final class Eligible {
  private Eligible() {}

  static List<Endpoint> of(List<Endpoint> candidates, Set<String> exclude, LoadRegistry loads) {
    List<Endpoint> healthy = new ArrayList<>(candidates.size());
    for (Endpoint e : candidates) {
      if (e.healthy() && !exclude.contains(e.address())) {
        healthy.add(e);
      }
    }
    List<Endpoint> live = new ArrayList<>(healthy.size());
    for (Endpoint e : healthy) {
      if (!loads.of(e.address()).ejected()) {
        live.add(e);
      }
    }
    // When every endpoint is ejected, try them anyway (panic mode): ejection is a guess.
    return live.isEmpty() ? healthy : live;
  }
}
