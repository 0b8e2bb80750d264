package dev.meshwork.controlplane.model;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Service: its ports, its cluster IPs, its selector, and its endpoints per Service port.
 *
 * @param clusterIps the virtual IPs clients may dial instead of a DNS name (spec.clusterIPs, IP
 *     literals only, as written); empty for a headless Service
 * @param endpointsByPort Service port number to the endpoints behind it (ready or not)
 */
public record MeshService(
    ServiceKey key,
    List<ServicePort> ports,
    List<String> clusterIps,
    Map<String, String> selector,
    Map<Integer, List<Endpoint>> endpointsByPort) {
  public MeshService {
    ports = List.copyOf(ports);
    clusterIps = List.copyOf(clusterIps);
    selector = Map.copyOf(selector);
    endpointsByPort = Map.copyOf(endpointsByPort);
  }

  public Optional<ServicePort> port(int number) {
    return ports.stream().filter(p -> p.port() == number).findFirst();
  }

  /** Endpoints of one Service port; empty when the port has none or does not exist. */
  public List<Endpoint> endpoints(int port) {
    return endpointsByPort.getOrDefault(port, List.of());
  }
}
