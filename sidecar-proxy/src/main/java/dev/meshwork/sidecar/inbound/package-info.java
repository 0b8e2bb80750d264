/**
 * Assembles the inbound side: the capture listener (15006) or an explicit listener, proxying calls
 * to the local application ({@link dev.meshwork.sidecar.listener.LocalRouter}) under the inbound
 * policy. Holds no logic of its own.
 *
 * <p>Threading: called once at start-up from the main thread.
 */
package dev.meshwork.sidecar.inbound;
