/**
 * Named data-path failures, and the one place that maps each to the gRPC status the caller sees.
 *
 * <p>Threading: immutable exceptions and a stateless mapper.
 */
package dev.meshwork.sidecar.error;
