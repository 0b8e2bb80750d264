package dev.meshwork.sidecar.capture;

import dev.meshwork.sidecar.testing.Backend;
import dev.meshwork.sidecar.testing.ControlPlane;
import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.XdsResources;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The app side of {@link SidecarCaptureNetnsIT}, run inside the pod's network namespace: a control
 * plane and two backends on loopback, and a grpc-java client that dials made-up ClusterIPs as an
 * app would. The capture rules, not this process, send those connections to the sidecar.
 *
 * <p>Services: {@code alpha} at {@code 10.96.0.10:8080} (domains list {@code <ip>:<port>}) served
 * by backend {@code b0}, {@code beta} at {@code 10.96.0.11:8080} (domains list only {@code <ip>})
 * served by {@code b1}.
 *
 * <p>Protocol on stdin/stdout, one line each way: {@code ready} (waits for the sidecar's readiness
 * endpoint), {@code call <ip>:<port> <authority>} (one unary call: {@code ok <reply>} or {@code
 * error <code>}), {@code garbage <ip>:<port>} (sends non-HTTP bytes: {@code reply <first line>} or
 * {@code closed} or {@code silent}). The first line printed is {@code xds <host:port>}.
 */
public final class CaptureWorld {
  static final String ALPHA_IP = "10.96.0.10";
  static final String BETA_IP = "10.96.0.11";
  static final int SERVICE_PORT = 8080;

  private CaptureWorld() {}

  public static void main(String[] args) throws Exception {
    int statusPort = Integer.parseInt(args[0]);
    ControlPlane cp = new ControlPlane();
    Backend b0 = new Backend("b0");
    Backend b1 = new Backend("b1");
    String alpha = XdsResources.hostPort("alpha", "default", SERVICE_PORT);
    String beta = XdsResources.hostPort("beta", "default", SERVICE_PORT);
    String alphaCluster = XdsResources.clusterName("alpha", "default", SERVICE_PORT);
    String betaCluster = XdsResources.clusterName("beta", "default", SERVICE_PORT);
    List<String> alphaDomains =
        new ArrayList<>(XdsResources.domains("alpha", "default", SERVICE_PORT));
    alphaDomains.add(ALPHA_IP + ":" + SERVICE_PORT);
    List<String> betaDomains =
        new ArrayList<>(XdsResources.domains("beta", "default", SERVICE_PORT));
    betaDomains.add(BETA_IP);
    cp.publish(
        List.of(XdsResources.apiListener(alpha), XdsResources.apiListener(beta)),
        List.of(
            XdsResources.routeConfig(alpha, alphaDomains, XdsResources.defaultRoute(alphaCluster)),
            XdsResources.routeConfig(beta, betaDomains, XdsResources.defaultRoute(betaCluster))),
        List.of(
            XdsResources.cluster(
                alphaCluster, io.envoyproxy.envoy.config.cluster.v3.Cluster.LbPolicy.ROUND_ROBIN),
            XdsResources.cluster(
                betaCluster, io.envoyproxy.envoy.config.cluster.v3.Cluster.LbPolicy.ROUND_ROBIN)),
        List.of(
            XdsResources.endpoints(alphaCluster, b0.port()),
            XdsResources.endpoints(betaCluster, b1.port())));
    System.out.println("xds " + cp.address());
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] w = line.trim().split(" ");
      String answer =
          switch (w[0]) {
            case "ready" -> ready(statusPort);
            case "call" -> call(w[1], w[2]);
            case "garbage" -> garbage(w[1]);
            default -> "unknown command " + w[0];
          };
      System.out.println(answer);
      System.out.flush();
    }
    b0.close();
    b1.close();
    cp.close();
    System.exit(0);
  }

  private static String ready(int statusPort) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String last = "";
    while (System.nanoTime() < until) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statusPort + "/ready"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return "ready";
        }
        last = r.body().strip();
      } catch (java.io.IOException e) {
        last = e.toString();
      }
      Thread.sleep(100);
    }
    return "not-ready " + last;
  }

  private static String call(String target, String authority) throws Exception {
    InetSocketAddress a = hostPort(target);
    ManagedChannel ch =
        NettyChannelBuilder.forAddress(a.getHostString(), a.getPort())
            .overrideAuthority(authority)
            .usePlaintext()
            .build();
    try {
      byte[] r =
          ClientCalls.blockingUnaryCall(
              ch,
              EchoService.UNARY,
              CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
              "hello".getBytes(StandardCharsets.UTF_8));
      return "ok " + new String(r, StandardCharsets.UTF_8);
    } catch (StatusRuntimeException e) {
      return "error " + e.getStatus().getCode() + " " + e.getStatus().getDescription();
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static String garbage(String target) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(hostPort(target), 5000);
      s.setSoTimeout(8000);
      OutputStream out = s.getOutputStream();
      byte[] junk = new byte[512];
      for (int i = 0; i < junk.length; i++) {
        junk[i] = (byte) (i * 37 + 11);
      }
      junk[0] = 0x01; // neither TLS, HTTP/1 nor the HTTP/2 preface
      out.write(junk);
      out.flush();
      InputStream in = s.getInputStream();
      StringBuilder first = new StringBuilder();
      int b;
      while ((b = in.read()) != -1 && b != '\n') {
        first.append((char) b);
      }
      return first.isEmpty() ? "closed" : "reply " + first;
    } catch (SocketTimeoutException e) {
      return "silent";
    } catch (java.io.IOException e) {
      return "closed " + e.getMessage();
    }
  }

  private static InetSocketAddress hostPort(String s) {
    int c = s.lastIndexOf(':');
    return new InetSocketAddress(s.substring(0, c), Integer.parseInt(s.substring(c + 1)));
  }
}
