package dev.meshwork.sidecar.capture;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sidecar-proxy capture [flags]}: installs the capture rules in the current network
 * namespace (the pod's, when run as the init container). Flags ({@code --flag=value} or {@code
 * --flag value}):
 *
 * <pre>
 * --inbound-port=15006             --outbound-port=15001         --proxy-uid=1337
 * --exclude-inbound-ports=15000,15020,15021
 * --exclude-outbound-ports=P,P     --exclude-outbound-cidrs=C,C
 * --iptables=iptables              binary to run (e.g. iptables-legacy)
 * --dry-run                        print the commands, change nothing
 * </pre>
 *
 * Idempotent: our chains are flushed and refilled, jumps added only when missing. Exit codes: 0
 * done, 1 iptables failed, 2 bad flags.
 */
public final class CaptureCommand {
  private static final Logger log = LoggerFactory.getLogger(CaptureCommand.class);

  private static final Pattern IPV4_CIDR =
      Pattern.compile(
          "^(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}/(3[0-2]|[12]?\\d)$");

  private CaptureCommand() {}

  /** Parsed flags. */
  record Options(CaptureConfig config, String iptables, boolean dryRun) {}

  /** Entry point called by {@code SidecarMain} for {@code capture}. */
  public static int run(String[] args) {
    return run(args, System.out, System.err);
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    Options o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      err.println("capture: " + e.getMessage());
      err.println(
          "usage: capture [--inbound-port=15006] [--outbound-port=15001] [--proxy-uid=1337]"
              + " [--exclude-inbound-ports=P,P] [--exclude-outbound-ports=P,P]"
              + " [--exclude-outbound-cidrs=CIDR,CIDR] [--iptables=BINARY] [--dry-run]");
      return 2;
    }
    List<IptablesCommand> plan = CaptureRules.plan(o.config());
    if (o.dryRun()) {
      for (IptablesCommand c : plan) {
        out.println(c.toShell(o.iptables()));
      }
      return 0;
    }
    Iptables iptables = new Iptables(o.iptables());
    try {
      iptables.apply(plan);
    } catch (CaptureException e) {
      err.println("capture: " + e.getMessage());
      log.error("capture.failed {}", e.getMessage());
      return 1;
    }
    log.info(
        "capture.installed inbound={} outbound={} proxyUid={} excludeInbound={} excludeOutbound={}"
            + " excludeCidrs={} commands={}",
        o.config().inboundPort(),
        o.config().outboundPort(),
        o.config().proxyUid(),
        o.config().excludeInboundPorts(),
        o.config().excludeOutboundPorts(),
        o.config().excludeOutboundCidrs(),
        plan.size());
    return 0;
  }

  static Options parse(String[] args) {
    CaptureConfig d = CaptureConfig.defaults();
    int inbound = d.inboundPort();
    int outbound = d.outboundPort();
    long uid = d.proxyUid();
    List<Integer> exIn = d.excludeInboundPorts();
    List<Integer> exOut = d.excludeOutboundPorts();
    List<String> cidrs = d.excludeOutboundCidrs();
    String binary = "iptables";
    boolean dryRun = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--dry-run")) {
        dryRun = true;
        continue;
      }
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'");
      }
      String name;
      String value;
      int eq = a.indexOf('=');
      if (eq > 0) {
        name = a.substring(2, eq);
        value = a.substring(eq + 1);
      } else {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("flag " + a + " needs a value");
        }
        name = a.substring(2);
        value = args[++i];
      }
      switch (name) {
        case "inbound-port" -> inbound = port(name, value);
        case "outbound-port" -> outbound = port(name, value);
        case "proxy-uid" -> uid = uid(value);
        case "exclude-inbound-ports" -> exIn = ports(name, value);
        case "exclude-outbound-ports" -> exOut = ports(name, value);
        case "exclude-outbound-cidrs" -> cidrs = cidrs(value);
        case "iptables" -> {
          if (value.isBlank()) {
            throw new IllegalArgumentException("--iptables needs a binary name");
          }
          binary = value;
        }
        default -> throw new IllegalArgumentException("unknown flag --" + name);
      }
    }
    return new Options(
        new CaptureConfig(inbound, outbound, uid, exIn, exOut, cidrs), binary, dryRun);
  }

  private static int port(String name, String value) {
    int p;
    try {
      p = Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      p = -1;
    }
    if (p < 1 || p > 65535) {
      throw new IllegalArgumentException(
          "--" + name + " wants a TCP port 1-65535, got '" + value + "'");
    }
    return p;
  }

  private static long uid(String value) {
    try {
      long u = Long.parseLong(value.strip());
      if (u >= 0) {
        return u;
      }
    } catch (NumberFormatException e) {
      // fall through to the message
    }
    throw new IllegalArgumentException("--proxy-uid wants a numeric UID, got '" + value + "'");
  }

  private static List<Integer> ports(String name, String value) {
    List<Integer> out = new ArrayList<>();
    for (String item : value.split(",")) {
      if (!item.isBlank()) {
        int p = port(name, item);
        if (!out.contains(p)) {
          out.add(p);
        }
      }
    }
    return out;
  }

  private static List<String> cidrs(String value) {
    List<String> out = new ArrayList<>();
    for (String item : value.split(",")) {
      String c = item.strip();
      if (c.isEmpty()) {
        continue;
      }
      if (!IPV4_CIDR.matcher(c).matches()) {
        throw new IllegalArgumentException(
            "--exclude-outbound-cidrs wants IPv4 CIDRs such as 10.0.0.0/8, got '" + c + "'");
      }
      if (!out.contains(c)) {
        out.add(c);
      }
    }
    return out;
  }
}
