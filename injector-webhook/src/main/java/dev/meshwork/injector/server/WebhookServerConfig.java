package dev.meshwork.injector.server;

import dev.meshwork.api.MeshConstants;
import java.time.Duration;
import java.util.Objects;

/**
 * Listening and limit settings of the webhook server.
 *
 * @param bindHost address to bind, {@code 0.0.0.0} in a pod
 * @param port TCP port, 15017 by default; 0 picks a free one (tests)
 * @param maxBodyBytes larger requests get HTTP 413; the API server's own object limit is ~3 MiB
 * @param readTimeout a connection that sends nothing for this long is closed (stalled or truncated
 *     requests; idle keep-alive connections)
 * @param handshakeTimeout TLS handshakes must finish within this
 * @param workerThreads threads for admission work, off the event loops
 */
public record WebhookServerConfig(
    String bindHost,
    int port,
    int maxBodyBytes,
    Duration readTimeout,
    Duration idleTimeout,
    Duration handshakeTimeout,
    int workerThreads) {

  public WebhookServerConfig {
    Objects.requireNonNull(bindHost, "bindHost");
    Objects.requireNonNull(readTimeout, "readTimeout");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    if (maxBodyBytes < 1024) {
      throw new IllegalArgumentException("maxBodyBytes too small: " + maxBodyBytes);
    }
    if (workerThreads < 1) {
      throw new IllegalArgumentException("workerThreads must be positive: " + workerThreads);
    }
  }

  public static final int DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

  public static WebhookServerConfig defaults() {
    return new WebhookServerConfig(
        "0.0.0.0",
        MeshConstants.CONTROL_PLANE_WEBHOOK_PORT,
        DEFAULT_MAX_BODY_BYTES,
        Duration.ofSeconds(10),
        Duration.ofSeconds(120),
        Duration.ofSeconds(5),
        Math.max(2, Runtime.getRuntime().availableProcessors()));
  }

  public WebhookServerConfig withPort(int p) {
    return new WebhookServerConfig(
        bindHost, p, maxBodyBytes, readTimeout, idleTimeout, handshakeTimeout, workerThreads);
  }

  public WebhookServerConfig withBindHost(String host) {
    return new WebhookServerConfig(
        host, port, maxBodyBytes, readTimeout, idleTimeout, handshakeTimeout, workerThreads);
  }

  public WebhookServerConfig withMaxBodyBytes(int bytes) {
    return new WebhookServerConfig(
        bindHost, port, bytes, readTimeout, idleTimeout, handshakeTimeout, workerThreads);
  }

  public WebhookServerConfig withReadTimeout(Duration timeout) {
    return new WebhookServerConfig(
        bindHost, port, maxBodyBytes, timeout, idleTimeout, handshakeTimeout, workerThreads);
  }

  public WebhookServerConfig withIdleTimeout(Duration timeout) {
    return new WebhookServerConfig(
        bindHost, port, maxBodyBytes, readTimeout, timeout, handshakeTimeout, workerThreads);
  }
}
