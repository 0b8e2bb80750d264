/**
 * Runs the CA on its own (the {@code meshctl demo} and "runnable alone" case): wires store,
 * verifier, CSR service and a TLS gRPC server, renews the server's own certificate and runs the
 * CA's upkeep. The control plane does the same wiring inside its own server on 15012.
 *
 * <p>Threading: {@link dev.meshwork.ca.server.CaServer} owns one scheduler thread for upkeep; gRPC
 * calls run on grpc-java's executor. Start and close from one thread.
 */
package dev.meshwork.ca.server;
