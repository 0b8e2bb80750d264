/**
 * The pod before and after injection, and the RFC 6902 JSON Patch between them. {@link
 * dev.meshwork.injector.patch.PodMutator} builds the injected pod; {@link
 * dev.meshwork.injector.patch.PodPatch} diffs the two with fabric8's zjsonpatch, which emits only
 * {@code add}/{@code remove}/{@code replace} operations here, each creating missing arrays and
 * objects first.
 *
 * <p>Threading: pure functions over immutable inputs (pods are copied, never changed in place).
 */
package dev.meshwork.injector.patch;
