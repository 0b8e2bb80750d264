/**
 * What the injector adds to a pod: the capture init container, the native sidecar, the projected
 * token volume and the annotations, built from an {@link
 * dev.meshwork.injector.template.InjectorConfig} and the pod's own annotations.
 *
 * <p>Threading: everything here is immutable or a pure function, safe from any thread.
 */
package dev.meshwork.injector.template;
