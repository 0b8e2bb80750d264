package dev.meshwork.sidecar.capture;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Test helper run inside a network namespace: listens on each {@code port=tag} given, answers every
 * connection with its tag and a newline, so a client can tell which listener it reached. Prints
 * {@code ready} once all ports are bound; exits when stdin closes or after two minutes.
 */
public final class TagServer {
  private TagServer() {}

  public static void main(String[] args) throws Exception {
    for (String a : args) {
      int eq = a.indexOf('=');
      int port = Integer.parseInt(a.substring(0, eq));
      byte[] tag = (a.substring(eq + 1) + "\n").getBytes(StandardCharsets.US_ASCII);
      ServerSocket ss = new ServerSocket();
      ss.setReuseAddress(true);
      ss.bind(new InetSocketAddress("0.0.0.0", port));
      Thread t =
          new Thread(
              () -> {
                while (true) {
                  try (Socket s = ss.accept();
                      OutputStream out = s.getOutputStream()) {
                    out.write(tag);
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      t.setDaemon(true);
      t.start();
    }
    System.out.println("ready");
    System.out.flush();
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(120_000);
              } catch (InterruptedException e) {
                return;
              }
              System.exit(3);
            });
    watchdog.setDaemon(true);
    watchdog.start();
    while (System.in.read() != -1) {
      // until the test closes our stdin
    }
    System.exit(0);
  }
}
