/**
 * Structured access logs: one JSON line per finished call, off by default, switched on per
 * workload. Written by {@link dev.meshwork.sidecar.telemetry} at a call's end.
 *
 * <p>Threading: thread-safe; lines are handed to an async appender, never written on the event
 * loop.
 */
package dev.meshwork.sidecar.accesslog;
