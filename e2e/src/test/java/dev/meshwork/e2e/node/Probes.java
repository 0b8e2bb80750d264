package dev.meshwork.e2e.node;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one readiness probe the way the kubelet does: from the node (the host end of the pod
 * network) to the pod's IP for httpGet and tcpSocket, inside the pod's network namespace for exec.
 * A grpc probe is reduced to a TCP connect to its port. Stateless.
 */
final class Probes {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private Probes() {}

  static boolean check(Probe probe, Container c, PodNetwork.PodNet net, Duration timeout) {
    try {
      if (probe.getHttpGet() != null) {
        var g = probe.getHttpGet();
        String scheme = g.getScheme() == null ? "http" : g.getScheme().toLowerCase();
        String path = g.getPath() == null ? "/" : g.getPath();
        URI uri = URI.create(scheme + "://" + net.ip() + ":" + port(g.getPort(), c) + path);
        HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(timeout);
        if (g.getHttpHeaders() != null) {
          g.getHttpHeaders().forEach(h -> req.header(h.getName(), h.getValue()));
        }
        int code = HTTP.send(req.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        return code >= 200 && code < 400;
      }
      if (probe.getTcpSocket() != null) {
        return connects(net.ip(), port(probe.getTcpSocket().getPort(), c), timeout);
      }
      if (probe.getGrpc() != null) {
        return connects(net.ip(), probe.getGrpc().getPort(), timeout);
      }
      if (probe.getExec() != null) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", net.netns()));
        cmd.addAll(probe.getExec().getCommand());
        return Sh.tryRun(cmd).exit() == 0;
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean connects(String ip, int port, Duration timeout) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(ip, port), (int) timeout.toMillis());
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** A probe's port: a number, or the name of one of the container's ports. */
  static int port(IntOrString port, Container c) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return c.getPorts().stream()
        .filter(p -> port.getStrVal().equals(p.getName()))
        .map(ContainerPort::getContainerPort)
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no port named " + port.getStrVal()));
  }
}
