/**
 * The Meshwork sidecar injector: a mutating admission webhook that adds the capture init container
 * and the native sidecar to pods. {@link dev.meshwork.injector.WebhookMain} runs it alone; the
 * control plane embeds {@link dev.meshwork.injector.server.WebhookServer} on port 15017.
 *
 * <p>Sub-packages, in the order a request flows: {@code server} (HTTPS, Netty event loops), {@code
 * admission} (decode, decide, answer; pure), {@code template} (what is added; pure), {@code patch}
 * (the pod before and after, as RFC 6902 JSON Patch; pure).
 */
package dev.meshwork.injector;
