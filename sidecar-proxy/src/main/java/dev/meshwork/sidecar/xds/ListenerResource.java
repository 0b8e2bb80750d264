package dev.meshwork.sidecar.xds;

import dev.meshwork.sidecar.config.InboundPolicy;
import dev.meshwork.sidecar.config.OutboundListener;

/**
 * A parsed LDS listener: an outbound {@code api_listener}, or the inbound listener. Exactly one is
 * non-null.
 */
public record ListenerResource(OutboundListener outbound, InboundPolicy inbound) {}
