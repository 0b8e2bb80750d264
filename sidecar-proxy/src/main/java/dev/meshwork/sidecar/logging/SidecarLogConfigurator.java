package dev.meshwork.sidecar.logging;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import dev.meshwork.api.logging.LogFormat;
import dev.meshwork.sidecar.accesslog.AccessLog;

/**
 * The sidecar's logging, set up in code (found by logback through {@code META-INF/services}).
 *
 * <p>Why not a {@code logback.xml}: reading one loads logback's XML configurator and the JDK's XML
 * parser, about 420 classes and a tenth of a second of every sidecar's start, for a configuration
 * that never changes. What it sets up:
 *
 * <ul>
 *   <li>{@code OUT}: one text line per event, or one JSON object per line with {@code
 *       MESHWORK_LOG_FORMAT=json} (the formats the control plane's XML gets from mesh-api, {@link
 *       LogFormat#TEXT_PATTERN} and {@link #jsonEncoder});
 *   <li>the access log ({@link AccessLog#LOGGER}): bare JSON lines on stdout through a queue that
 *       drops lines rather than block an event loop;
 *   <li>INFO, with Netty and gRPC at WARN.
 * </ul>
 *
 * <p>An explicit configuration still wins: with {@code -Dlogback.configurationFile} (levels per
 * logger), or a {@code logback-test.xml} / {@code logback.xml} on the class path (tests, and
 * programs that embed the sidecar), this steps aside and logback reads that file as usual.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class SidecarLogConfigurator extends ContextAwareBase implements Configurator {
  static final int ACCESS_QUEUE = 8192;

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || resource("logback-test.xml")
        || resource("logback.xml")) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    String format = System.getenv(LogFormat.ENV);
    apply(context, format == null ? "text" : format);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Sets up {@code context} for {@code format} ("text" or "json"). */
  static void apply(LoggerContext context, String format) {
    ConsoleAppender<ILoggingEvent> out =
        console(context, "OUT", format.equals("json") ? jsonEncoder(context) : pattern(context));
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(out);
    context.getLogger("io.netty").setLevel(Level.WARN);
    context.getLogger("io.grpc").setLevel(Level.WARN);

    PatternLayoutEncoder bare = new PatternLayoutEncoder();
    bare.setContext(context);
    bare.setPattern("%msg%n");
    bare.start();
    AsyncAppender access = new AsyncAppender();
    access.setContext(context);
    access.setName("ACCESS");
    access.setQueueSize(ACCESS_QUEUE);
    access.setDiscardingThreshold(0);
    access.setNeverBlock(true);
    access.addAppender(console(context, "ACCESS_OUT", bare));
    access.start();
    Logger accessLogger = context.getLogger(AccessLog.LOGGER);
    accessLogger.setLevel(Level.INFO);
    accessLogger.setAdditive(false);
    accessLogger.addAppender(access);
  }

  private static PatternLayoutEncoder pattern(LoggerContext context) {
    PatternLayoutEncoder e = new PatternLayoutEncoder();
    e.setContext(context);
    e.setPattern(LogFormat.TEXT_PATTERN);
    e.start();
    return e;
  }

  /** The JSON line format of mesh-api's {@code log-json.xml}, field for field. */
  static JsonEncoder jsonEncoder(LoggerContext context) {
    JsonEncoder e = new JsonEncoder();
    e.setContext(context);
    e.setWithSequenceNumber(false);
    e.setWithNanoseconds(false);
    e.setWithContext(false);
    e.setWithMessage(false);
    e.setWithArguments(false);
    e.setWithFormattedMessage(true);
    e.start();
    return e;
  }

  private static ConsoleAppender<ILoggingEvent> console(
      LoggerContext context, String name, Encoder<ILoggingEvent> encoder) {
    ConsoleAppender<ILoggingEvent> a = new ConsoleAppender<>();
    a.setContext(context);
    a.setName(name);
    a.setEncoder(encoder);
    a.start();
    return a;
  }

  private static boolean resource(String name) {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null) {
      loader = SidecarLogConfigurator.class.getClassLoader();
    }
    return loader.getResource(name) != null;
  }
}
