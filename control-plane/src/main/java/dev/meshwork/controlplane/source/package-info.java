/**
 * Where config comes from: {@link dev.meshwork.controlplane.source.KubernetesConfigSource} (fabric8
 * informers) or {@link dev.meshwork.controlplane.source.DirectoryConfigSource} (a watched folder of
 * the same YAML). Both hand complete {@link dev.meshwork.controlplane.model.RawConfig} sets to a
 * sink after a debounce window.
 *
 * <p>Threading: each source calls its sink from its own single scheduler thread, never concurrently
 * with itself; informer and file-watch callbacks only schedule that work.
 */
package dev.meshwork.controlplane.source;
