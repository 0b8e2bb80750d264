/**
 * The webhook's HTTPS server (Netty): TLS from {@link dev.meshwork.injector.server.TlsCredentials}
 * (re-read per connection, so a rotated certificate takes effect without a restart), HTTP/1.1 with
 * a body limit and read timeouts, and {@link dev.meshwork.injector.server.AdmissionHttpHandler}
 * answering {@code POST /inject}.
 *
 * <p>Threading: I/O and TLS run on the Netty event loops; admission work (JSON, patch) runs on a
 * separate worker group so a slow request never stalls the event loop that owns other connections.
 * Handlers are {@code @Sharable} and stateless.
 */
package dev.meshwork.injector.server;
