/**
 * The data-plane benchmark: one grpc-java greeter, driven at fixed rates by ghz, reached directly
 * and through three proxy pairs (Meshwork sidecars, HAProxy, nginx) in the same topology, measured
 * in one run. Processes and their CPU and memory are observed through /proc.
 *
 * <p>Threading: single-threaded orchestration; the greeter runs on its own gRPC threads.
 */
package dev.meshwork.bench.dataplane;
