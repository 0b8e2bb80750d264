package dev.meshwork.controlplane.model;

/**
 * One port of a Service.
 *
 * @param name the port's name, or empty when the Service has a single unnamed port
 * @param port the Service (frontend) port clients dial
 * @param targetPortNumber the container port, or null when {@code targetPortName} names it
 * @param targetPortName the named container port, or null
 * @param appProtocol the declared application protocol, or null
 */
public record ServicePort(
    String name, int port, Integer targetPortNumber, String targetPortName, String appProtocol) {
  public ServicePort {
    name = name == null ? "" : name;
  }
}
