package dev.meshwork.sidecar.telemetry;

import io.netty.handler.codec.http2.Http2Headers;
import java.util.Map;

/**
 * One call as the data path reports it, from request headers to its end. Every method is called on
 * the call's event loop; {@link #end} may be called more than once and counts only the first time.
 */
public interface ObservedCall {
  ObservedCall NONE = new ObservedCall() {};

  /**
   * The call was routed to {@code cluster}; {@code upstream} are the request headers about to be
   * sent on (trace context is written into them, telemetry-only headers are removed).
   *
   * @param mtls true when the upstream hop is mutual TLS
   */
  default void routed(String cluster, boolean mtls, Http2Headers upstream) {}

  /**
   * An attempt starts on an endpoint; {@code metadata} is the endpoint's EDS metadata (pod,
   * workload, version). A second attempt marks the call {@code RETRIED}.
   */
  default void attempt(Map<String, String> metadata) {}

  /** A HEADERS frame of the response arrived from upstream (headers or trailers). */
  default void response(Http2Headers headers) {}

  /**
   * The sidecar answered the call itself with {@code grpcStatus} (no route, no healthy upstream,
   * deadline, denied...).
   *
   * @param flag why, or null when none of the flags fits
   */
  default void localReply(int grpcStatus, CallRecord.ResponseFlag flag) {}

  /**
   * The call is over.
   *
   * @param flag how it ended abnormally ({@code DOWNSTREAM_CANCELLED}, {@code UPSTREAM_RESET}), or
   *     null for a normal end
   */
  default void end(CallRecord.ResponseFlag flag) {}
}
