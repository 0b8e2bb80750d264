package dev.meshwork.sidecar.capture;

/** Runs {@link CaptureCommand} as its own process, so a test can start it inside a netns. */
public final class CaptureMainForTest {
  private CaptureMainForTest() {}

  public static void main(String[] args) {
    System.exit(CaptureCommand.run(args));
  }
}
