package dev.meshwork.meshctl.demo;

/** A demo step failed; the message says which component and where its log is. */
final class DemoException extends Exception {
  DemoException(String message) {
    super(message);
  }
}
