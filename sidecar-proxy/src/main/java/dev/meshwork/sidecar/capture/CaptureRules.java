package dev.meshwork.sidecar.capture;

import dev.meshwork.sidecar.capture.IptablesCommand.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the nat-table rules from a {@link CaptureConfig}. Pure: the same config gives the same
 * commands, in order. The model follows Istio's: built-in chains jump once into our own chains,
 * which are flushed and refilled on every run.
 *
 * <pre>
 * PREROUTING -p tcp -> MESHWORK_INBOUND
 *   excluded inbound ports  RETURN
 *   everything else         MESHWORK_IN_REDIRECT (REDIRECT to 15006)
 * OUTPUT -p tcp -> MESHWORK_OUTBOUND
 *   from 127.0.0.6 on lo            RETURN (sidecar delivering inbound calls to the app)
 *   uid 1337 to a local non-127.0.0.1 address on lo
 *                                   MESHWORK_IN_REDIRECT (a call to our own pod via a Service
 *                                   still goes through the inbound side)
 *   other uids on lo                RETURN (the app talking to itself)
 *   uid 1337                        RETURN (the sidecar's own traffic goes out directly)
 *   to 127.0.0.1                    RETURN
 *   excluded CIDRs and ports        RETURN
 *   everything else                 MESHWORK_REDIRECT (REDIRECT to 15001)
 * </pre>
 */
public final class CaptureRules {
  private CaptureRules() {}

  public static final String TABLE = "nat";
  public static final String INBOUND = "MESHWORK_INBOUND";
  public static final String IN_REDIRECT = "MESHWORK_IN_REDIRECT";
  public static final String OUTBOUND = "MESHWORK_OUTBOUND";
  public static final String REDIRECT = "MESHWORK_REDIRECT";

  /** Our chains, in creation order (targets before the chains that jump to them). */
  public static final List<String> CHAINS = List.of(IN_REDIRECT, REDIRECT, INBOUND, OUTBOUND);

  /** Source address a sidecar may bind when it forwards an inbound call to the app. */
  public static final String INBOUND_PASSTHROUGH_SOURCE = "127.0.0.6/32";

  public static List<IptablesCommand> plan(CaptureConfig c) {
    List<IptablesCommand> out = new ArrayList<>();
    for (String chain : CHAINS) {
      out.add(cmd(Kind.CREATE_CHAIN, "-N", chain));
    }
    for (String chain : CHAINS) {
      out.add(cmd(Kind.FLUSH_CHAIN, "-F", chain));
    }

    String uid = Long.toString(c.proxyUid());
    out.add(
        cmd(
            Kind.APPEND,
            "-A",
            IN_REDIRECT,
            "-p",
            "tcp",
            "-j",
            "REDIRECT",
            "--to-ports",
            Integer.toString(c.inboundPort())));
    out.add(
        cmd(
            Kind.APPEND,
            "-A",
            REDIRECT,
            "-p",
            "tcp",
            "-j",
            "REDIRECT",
            "--to-ports",
            Integer.toString(c.outboundPort())));

    for (int port : c.excludeInboundPorts()) {
      out.add(
          cmd(
              Kind.APPEND,
              "-A",
              INBOUND,
              "-p",
              "tcp",
              "--dport",
              Integer.toString(port),
              "-j",
              "RETURN"));
    }
    out.add(cmd(Kind.APPEND, "-A", INBOUND, "-p", "tcp", "-j", IN_REDIRECT));

    out.add(
        cmd(
            Kind.APPEND,
            "-A",
            OUTBOUND,
            "-o",
            "lo",
            "-s",
            INBOUND_PASSTHROUGH_SOURCE,
            "-j",
            "RETURN"));
    out.add(
        cmd(
            Kind.APPEND,
            "-A",
            OUTBOUND,
            "-o",
            "lo",
            "!",
            "-d",
            "127.0.0.1/32",
            "-m",
            "owner",
            "--uid-owner",
            uid,
            "-j",
            IN_REDIRECT));
    out.add(
        cmd(
            Kind.APPEND,
            "-A",
            OUTBOUND,
            "-o",
            "lo",
            "-m",
            "owner",
            "!",
            "--uid-owner",
            uid,
            "-j",
            "RETURN"));
    out.add(cmd(Kind.APPEND, "-A", OUTBOUND, "-m", "owner", "--uid-owner", uid, "-j", "RETURN"));
    out.add(cmd(Kind.APPEND, "-A", OUTBOUND, "-d", "127.0.0.1/32", "-j", "RETURN"));
    for (String cidr : c.excludeOutboundCidrs()) {
      out.add(cmd(Kind.APPEND, "-A", OUTBOUND, "-d", cidr, "-j", "RETURN"));
    }
    for (int port : c.excludeOutboundPorts()) {
      out.add(
          cmd(
              Kind.APPEND,
              "-A",
              OUTBOUND,
              "-p",
              "tcp",
              "--dport",
              Integer.toString(port),
              "-j",
              "RETURN"));
    }
    out.add(cmd(Kind.APPEND, "-A", OUTBOUND, "-j", REDIRECT));

    // Jumps from the built-in chains last, so no packet meets a half-filled chain of ours.
    out.add(cmd(Kind.APPEND_UNLESS_PRESENT, "-A", "PREROUTING", "-p", "tcp", "-j", INBOUND));
    out.add(cmd(Kind.APPEND_UNLESS_PRESENT, "-A", "OUTPUT", "-p", "tcp", "-j", OUTBOUND));
    return out;
  }

  private static IptablesCommand cmd(Kind kind, String... args) {
    List<String> a = new ArrayList<>(List.of("-t", TABLE));
    a.addAll(List.of(args));
    return new IptablesCommand(kind, a);
  }
}
