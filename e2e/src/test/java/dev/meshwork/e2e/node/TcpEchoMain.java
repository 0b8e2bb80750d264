package dev.meshwork.e2e.node;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A tiny test workload: echoes each connection's bytes back, prefixed with the pod name. Runs in a
 * pod through {@link ProcessKubelet#registerJavaMain}. Usage: {@code TcpEchoMain <port>}.
 */
public final class TcpEchoMain {
  private TcpEchoMain() {}

  public static void main(String[] args) throws IOException {
    String who = System.getenv().getOrDefault("HOSTNAME", "?");
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
      while (true) {
        Socket s = server.accept();
        Thread.ofVirtual()
            .start(
                () -> {
                  try (s) {
                    s.getOutputStream().write((who + ":").getBytes());
                    s.getInputStream().transferTo(s.getOutputStream());
                  } catch (IOException e) {
                    // the peer went away
                  }
                });
      }
    }
  }
}
