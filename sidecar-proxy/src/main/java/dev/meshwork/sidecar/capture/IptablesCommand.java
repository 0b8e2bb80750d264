package dev.meshwork.sidecar.capture;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One step of the plan, as {@code iptables} arguments.
 *
 * @param kind how the step is applied (what makes a re-run idempotent)
 * @param args arguments after the {@code iptables} binary, e.g. {@code -t nat -A CHAIN ...}
 */
public record IptablesCommand(Kind kind, List<String> args) {
  public IptablesCommand {
    args = List.copyOf(args);
  }

  /** How a step is applied. */
  public enum Kind {
    /** {@code -N CHAIN}; a chain that already exists is fine. */
    CREATE_CHAIN,
    /** {@code -F CHAIN}: a re-run starts from an empty chain of ours. */
    FLUSH_CHAIN,
    /** {@code -A ...} into one of our own chains, just flushed. */
    APPEND,
    /** {@code -A BUILTIN -j OURS}, only when {@code -C} says it is not there yet. */
    APPEND_UNLESS_PRESENT
  }

  /** The command as a shell line, for {@code --dry-run} and logs. */
  public String toShell(String binary) {
    String line =
        binary
            + " "
            + args.stream()
                .map(a -> a.matches("[A-Za-z0-9_./:,=-]+") ? a : "'" + a + "'")
                .collect(Collectors.joining(" "));
    return switch (kind) {
      case CREATE_CHAIN -> line + " 2>/dev/null || true";
      case APPEND_UNLESS_PRESENT ->
          binary
              + " "
              + String.join(" ", args).replaceFirst("(^| )-A ", "$1-C ")
              + " 2>/dev/null || "
              + line;
      default -> line;
    };
  }
}
