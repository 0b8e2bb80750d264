/**
 * Assembles the outbound side: the capture listener (15001) and the explicit listener an app can
 * dial directly, both routing calls by xDS ({@link dev.meshwork.sidecar.route.XdsRouter}). Holds no
 * logic of its own.
 *
 * <p>Threading: called once at start-up from the main thread.
 */
package dev.meshwork.sidecar.outbound;
