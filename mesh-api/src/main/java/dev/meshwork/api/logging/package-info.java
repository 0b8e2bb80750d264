/** The log format switch shared by the mesh's processes (logback fragments live beside it). */
package dev.meshwork.api.logging;
