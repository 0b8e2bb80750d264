/**
 * Writing route status back like a Gateway API implementation: {@code Accepted} and {@code
 * ResolvedRefs} per parent, with reasons and {@code observedGeneration}, only while this replica
 * holds the leader lease (fabric8 leader election on a Lease in {@code meshwork-system}).
 *
 * <p>Threading: the writer does its API calls on its own single thread; the leader elector runs on
 * fabric8's executor and only flips a flag and schedules a full rewrite.
 */
package dev.meshwork.controlplane.status;
