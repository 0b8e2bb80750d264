package dev.meshwork.controlplane.model;

/**
 * An object of one of our CRDs that the source saw but could not turn into its Java type (a mode or
 * field this control plane does not know, e.g. written under a newer CRD). It is kept apart rather
 * than dropped, so the builder can report it and keep the object's last good version in force.
 *
 * @param kind the CRD kind, e.g. {@code PeerAuthentication}
 * @param namespace the object's namespace
 * @param name the object's name
 * @param uid {@code metadata.uid}, or null (folder-sourced objects have none)
 * @param generation {@code metadata.generation}, or 0 when absent
 * @param error why it could not be read, for the status message and the log
 */
public record UnreadableObject(
    String kind, String namespace, String name, String uid, long generation, String error) {}
