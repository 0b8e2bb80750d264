/**
 * Route model and matching: which cluster a call goes to, from its {@code :authority}, {@code
 * :path} and headers, as the xDS {@code RouteConfiguration} says.
 *
 * <p>Threading: every type here is an immutable record (or a stateless function over one) and is
 * safe to share between event loops. A stream matches once, against the snapshot it read once.
 */
package dev.meshwork.sidecar.route;
