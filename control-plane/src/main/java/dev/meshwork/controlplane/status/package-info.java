/**
 * Writing status back, only while this replica holds the leader lease (fabric8 leader election on a
 * Lease in {@code meshwork-system}): GRPCRoutes get {@code Accepted} and {@code ResolvedRefs} per
 * parent like a Gateway API implementation ({@link dev.meshwork.controlplane.status.RouteStatus});
 * our own policies get an {@code Accepted} condition in {@code status.conditions} ({@link
 * dev.meshwork.controlplane.status.PolicyConditions}). Both carry a reason and {@code
 * observedGeneration}; {@link dev.meshwork.controlplane.status.Conditions} builds them alike.
 *
 * <p>Threading: the writer does its API calls on its own single thread; the leader elector runs on
 * fabric8's executor and only flips a flag and schedules a full rewrite.
 */
package dev.meshwork.controlplane.status;
