package dev.meshwork.injector.patch;

/** The pod already uses a name the injector must add (a container or a volume). */
public final class PodConflictException extends Exception {
  public PodConflictException(String message) {
    super(message);
  }
}
