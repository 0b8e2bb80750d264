/**
 * The sidecar injector as the control plane hosts it on 15017 (HTTPS), like istiod: the {@code
 * injector-webhook} server, serving a certificate from the control plane's own CA ({@link
 * dev.meshwork.controlplane.webhook.CaServingCredentials}), so the webhook configuration's {@code
 * caBundle} is the mesh's trust bundle. {@link dev.meshwork.controlplane.webhook.HostedWebhook} is
 * what {@code ControlPlaneMain} starts and closes.
 *
 * <p>Threading: the webhook server owns its Netty threads; the credentials are thread-safe and
 * renew the certificate on the connection that first finds it past half its lifetime.
 */
package dev.meshwork.controlplane.webhook;
