package dev.meshwork.meshctl;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code meshctl}; each subcommand is its own class. */
@Command(
    name = "meshctl",
    mixinStandardHelpOptions = true,
    version = "meshctl 0.1.0",
    description = "Operate the Meshwork service mesh.",
    subcommands = {dev.meshwork.meshctl.demo.DemoCommand.class})
public final class Meshctl implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Meshctl()).execute(args));
  }
}
