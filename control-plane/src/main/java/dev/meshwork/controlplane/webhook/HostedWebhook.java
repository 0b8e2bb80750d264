package dev.meshwork.controlplane.webhook;

import dev.meshwork.injector.admission.AdmissionService;
import dev.meshwork.injector.admission.ReviewListener;
import dev.meshwork.injector.server.TlsCredentials;
import dev.meshwork.injector.server.WebhookServer;
import dev.meshwork.injector.server.WebhookServerConfig;
import dev.meshwork.injector.template.InjectorConfig;
import java.net.InetSocketAddress;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar injector served by the control plane on 15017: the {@code injector-webhook} server
 * with a certificate from the control plane's CA. Start with {@link #start}; {@link #close} stops
 * it. Thread-safe.
 */
public final class HostedWebhook implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HostedWebhook.class);

  /**
   * @param address where to listen; port 0 picks a free one (tests)
   * @param injector what is injected (image, control plane address, trust domain, ...)
   */
  public record Settings(InetSocketAddress address, InjectorConfig injector) {
    public Settings {
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(injector, "injector");
    }
  }

  private final WebhookServer server;

  private HostedWebhook(WebhookServer server) {
    this.server = server;
  }

  /**
   * Issues the serving certificate and binds.
   *
   * @param issuer the CA, e.g. {@code embeddedCa::servingCredentials}
   * @param listener told about every answered review (metrics, tests); {@link ReviewListener#NOOP}
   * @throws dev.meshwork.injector.server.TlsConfigException if the CA cannot issue a certificate
   * @throws InterruptedException if interrupted while binding
   */
  public static HostedWebhook start(
      Settings settings, CaServingCredentials.Issuer issuer, ReviewListener listener)
      throws InterruptedException {
    TlsCredentials tls = CaServingCredentials.from(issuer, java.time.Clock.systemUTC());
    WebhookServerConfig config =
        WebhookServerConfig.defaults()
            .withBindHost(settings.address().getHostString())
            .withPort(settings.address().getPort());
    WebhookServer server =
        WebhookServer.start(config, tls, new AdmissionService(settings.injector(), listener));
    log.info(
        "sidecar injector on https://{}/inject (sidecar image {})",
        server.localAddress(),
        settings.injector().sidecarImage());
    return new HostedWebhook(server);
  }

  /** The bound address (the real port when 0 was asked). */
  public InetSocketAddress address() {
    return server.localAddress();
  }

  @Override
  public void close() {
    server.close();
  }
}
