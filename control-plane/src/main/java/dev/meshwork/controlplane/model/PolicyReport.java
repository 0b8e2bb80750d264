package dev.meshwork.controlplane.model;

/**
 * What the builder concluded about one generation of a mesh policy (our CRDs): the input of the
 * status writer ({@code Accepted} condition) and of the debug page.
 *
 * @param kind the CRD kind, e.g. {@code PeerAuthentication}
 * @param namespace policy namespace
 * @param name policy name
 * @param observedGeneration the {@code metadata.generation} this verdict describes
 * @param accepted true when this generation is valid and in force
 * @param reason {@code Accepted}, or why not ({@link #INVALID})
 * @param message empty when accepted; else every problem, each naming its field
 * @param inForce true when some version of the policy is applied (this one when accepted, else the
 *     last good one)
 */
public record PolicyReport(
    String kind,
    String namespace,
    String name,
    long observedGeneration,
    boolean accepted,
    String reason,
    String message,
    boolean inForce) {

  /** Reason of an accepted policy. */
  public static final String ACCEPTED = "Accepted";

  /** Reason of a policy whose spec breaks a rule the CRD schema cannot express. */
  public static final String INVALID = "Invalid";
}
