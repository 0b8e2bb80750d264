package dev.meshwork.injector.template;

/** A pod annotation the injector reads has a value it cannot use; the message names both. */
public final class InvalidAnnotationException extends Exception {
  private final String annotation;

  public InvalidAnnotationException(String annotation, String value, String expected) {
    super("annotation " + annotation + "=\"" + value + "\" is invalid: expected " + expected);
    this.annotation = annotation;
  }

  /** The annotation key at fault. */
  public String annotation() {
    return annotation;
  }
}
