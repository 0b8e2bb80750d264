package dev.meshwork.sidecar.config;

import java.time.Duration;

/**
 * Static limits of the data path, from flags, each with a default.
 *
 * @param maxHeaderListSize SETTINGS_MAX_HEADER_LIST_SIZE advertised downstream (bytes); larger
 *     header blocks get RST_STREAM / GOAWAY from the codec
 * @param maxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS per downstream connection
 * @param initialWindowSize HTTP/2 stream flow-control window, both sides (bytes)
 * @param idleTimeout a downstream connection with no stream for this long is closed (GOAWAY)
 * @param connectTimeout upstream TCP connect timeout
 * @param drainTimeout how long calls in flight may finish after SIGTERM
 * @param retryBufferBytes request bytes kept per call for a transparent retry before a response
 * @param maxAttempts attempts per call, counting the first, for failures that are safe to retry
 */
public record ProxyLimits(
    long maxHeaderListSize,
    int maxConcurrentStreams,
    int initialWindowSize,
    Duration idleTimeout,
    Duration connectTimeout,
    Duration drainTimeout,
    int retryBufferBytes,
    int maxAttempts) {

  public static final ProxyLimits DEFAULTS =
      new ProxyLimits(
          16 * 1024,
          1000,
          1024 * 1024,
          Duration.ofMinutes(10),
          Duration.ofSeconds(2),
          Duration.ofSeconds(5),
          64 * 1024,
          3);
}
