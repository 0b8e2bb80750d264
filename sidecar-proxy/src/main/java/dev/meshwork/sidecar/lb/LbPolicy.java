package dev.meshwork.sidecar.lb;

/** The balancing algorithms a cluster may ask for (CDS {@code lb_policy}). */
public enum LbPolicy {
  ROUND_ROBIN,
  LEAST_REQUEST,
  /** Not an xDS enum value: chosen by cluster metadata {@code meshwork.lb=PEAK_EWMA}. */
  PEAK_EWMA
}
