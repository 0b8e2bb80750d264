package dev.meshwork.injector.admission;

import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bytes in, bytes out: the whole webhook minus HTTP. Every input gets an answer: an AdmissionReview
 * when a uid could be read, otherwise an HTTP 400 with a Kubernetes {@code Status}. Nothing thrown
 * here reaches the caller as a stack trace. Thread-safe.
 */
public final class AdmissionService {
  private static final Logger log = LoggerFactory.getLogger(AdmissionService.class);

  private final AdmissionCodec codec;
  private final SidecarInjector injector;
  private final ReviewListener listener;

  public AdmissionService(InjectorConfig config) {
    this(config, ReviewListener.NOOP);
  }

  /**
   * @param listener told about every answered review; {@link ReviewListener#NOOP} for none
   */
  public AdmissionService(InjectorConfig config, ReviewListener listener) {
    this.codec = new AdmissionCodec();
    this.injector = new SidecarInjector(config, codec.mapper());
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  public AdmissionCodec codec() {
    return codec;
  }

  public HttpAnswer handle(byte[] body) {
    long started = System.nanoTime();
    DecodedReview review;
    try {
      review = codec.decode(body);
    } catch (BadAdmissionReviewException e) {
      log.warn("bad admission request uid={}: {}", e.uid().orElse("-"), e.getMessage());
      if (e.uid().isPresent()) {
        return new HttpAnswer(
            200, codec.encode(SidecarInjector.denied(e.uid().get(), 400, e.getMessage())));
      }
      return new HttpAnswer(400, codec.encodeFailure(400, "BadRequest", e.getMessage()));
    }
    AdmissionResponse response;
    try {
      response = injector.review(review);
    } catch (RuntimeException e) {
      // A bug of ours: say so plainly, log the trace here, never send it.
      log.error("injector failed on uid={}", review.uid(), e);
      response =
          SidecarInjector.denied(
              review.uid(),
              500,
              "meshwork injector internal error ("
                  + e.getClass().getSimpleName()
                  + "); see the control plane log for uid "
                  + review.uid());
    }
    try {
      listener.reviewed(
          review.request(), response, java.time.Duration.ofNanos(System.nanoTime() - started));
    } catch (RuntimeException e) {
      log.warn("review listener failed on uid={}: {}", review.uid(), e.toString());
    }
    return new HttpAnswer(200, codec.encode(response));
  }
}
