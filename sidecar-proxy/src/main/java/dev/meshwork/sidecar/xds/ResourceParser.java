package dev.meshwork.sidecar.xds;

import com.google.protobuf.Any;

/**
 * Turns one xDS resource ({@code Any}) into a validated record, or into NACK reasons. Pure and
 * thread-safe. One implementation per type URL.
 */
public interface ResourceParser<T> {
  String typeUrl();

  Parsed<T> parse(Any resource);
}
