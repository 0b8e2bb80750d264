package dev.meshwork.bench.dataplane;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates for the peer proxies' mTLS, made with openssl: an ECDSA P-256 root, a server
 * certificate for {@code greeter.bench} and a client certificate, the same key type and curve the
 * Meshwork CA issues, so every pair does the same handshake work.
 */
final class Certs {
  private Certs() {}

  static Path generate(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    run(dir, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "root.key");
    run(
        dir,
        "openssl",
        "req",
        "-x509",
        "-new",
        "-key",
        "root.key",
        "-sha256",
        "-days",
        "2",
        "-subj",
        "/CN=bench-root",
        "-out",
        "root.pem");
    for (String side : List.of("server", "client")) {
      run(
          dir,
          "openssl",
          "ecparam",
          "-name",
          "prime256v1",
          "-genkey",
          "-noout",
          "-out",
          side + ".ec");
      run(
          dir,
          "openssl",
          "pkcs8",
          "-topk8",
          "-nocrypt",
          "-in",
          side + ".ec",
          "-out",
          side + ".key");
      run(
          dir,
          "openssl",
          "req",
          "-new",
          "-key",
          side + ".key",
          "-subj",
          "/CN=greeter.bench",
          "-out",
          side + ".csr");
      Files.writeString(
          dir.resolve(side + ".ext"),
          "subjectAltName=DNS:greeter.bench\nextendedKeyUsage=serverAuth,clientAuth\n");
      run(
          dir,
          "openssl",
          "x509",
          "-req",
          "-in",
          side + ".csr",
          "-CA",
          "root.pem",
          "-CAkey",
          "root.key",
          "-CAcreateserial",
          "-days",
          "2",
          "-sha256",
          "-extfile",
          side + ".ext",
          "-out",
          side + ".crt");
      // HAProxy wants certificate and key in one file.
      Files.writeString(
          dir.resolve(side + ".pem"),
          Files.readString(dir.resolve(side + ".crt"))
              + Files.readString(dir.resolve(side + ".key")));
    }
    return dir;
  }

  private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
