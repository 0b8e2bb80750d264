package dev.meshwork.sidecar.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import dev.meshwork.sidecar.accesslog.AccessLog;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SidecarLogConfiguratorTest {

  @Test
  void textLinesAreWhatTheSharedXmlFragmentWrites() throws Exception {
    assertThat(lineFromCode("text")).isEqualTo(lineFromXml("text")).contains(" INFO  [");
  }

  @Test
  void jsonLinesAreWhatTheSharedXmlFragmentWrites() throws Exception {
    String json = lineFromCode("json");
    assertThat(json).isEqualTo(lineFromXml("json"));
    assertThat(json)
        .startsWith("{")
        .contains("\"formattedMessage\":\"call.error status=14\"")
        .contains("\"loggerName\":\"dev.meshwork.sidecar.Test\"")
        .doesNotContain("\"sequenceNumber\"");
  }

  @Test
  void accessLinesGoThroughTheirOwnNonBlockingQueueOnly() {
    LoggerContext context = newContext();
    SidecarLogConfigurator.apply(context, "text");
    Logger access = context.getLogger(AccessLog.LOGGER);
    assertThat(access.isAdditive()).isFalse();
    assertThat(access.getAppender("ACCESS"))
        .isInstanceOfSatisfying(
            AsyncAppender.class,
            a -> {
              assertThat(a.isNeverBlock()).isTrue();
              assertThat(a.getQueueSize()).isEqualTo(SidecarLogConfigurator.ACCESS_QUEUE);
              assertThat(a.getDiscardingThreshold()).isZero();
            });
    assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.grpc").getLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.INFO);
    context.stop();
  }

  @Test
  void anExplicitConfigurationFileWins() {
    // The test class path holds logback-test.xml: the configurator must leave it to logback.
    LoggerContext context = newContext();
    SidecarLogConfigurator c = new SidecarLogConfigurator();
    c.setContext(context);
    assertThat(c.configure(context)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext())
        .isFalse();
  }

  private static String lineFromCode(String format) {
    LoggerContext context = newContext();
    SidecarLogConfigurator.apply(context, format);
    return encode(context);
  }

  private static String lineFromXml(String format) throws Exception {
    LoggerContext context = newContext();
    JoranConfigurator joran = new JoranConfigurator();
    joran.setContext(context);
    String xml =
        "<configuration><include resource=\"dev/meshwork/logging/log-"
            + format
            + ".xml\"/><root level=\"INFO\"><appender-ref ref=\"OUT\"/></root></configuration>";
    joran.doConfigure(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    return encode(context);
  }

  private static LoggerContext newContext() {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    return context;
  }

  /** One fixed event through the root's OUT appender's encoder. */
  private static String encode(LoggerContext context) {
    Logger logger = context.getLogger("dev.meshwork.sidecar.Test");
    LoggingEvent event =
        new LoggingEvent(
            Logger.FQCN, logger, Level.INFO, "call.error status={}", null, new Object[] {14});
    event.setThreadName("meshwork-worker-1");
    event.setTimeStamp(1_796_000_000_000L);
    event.addKeyValuePair(new org.slf4j.event.KeyValuePair("endpoint", "10.0.0.1:8080"));
    @SuppressWarnings("unchecked")
    OutputStreamAppender<ILoggingEvent> out =
        (OutputStreamAppender<ILoggingEvent>)
            context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("OUT");
    String line = new String(out.getEncoder().encode(event), StandardCharsets.UTF_8);
    context.stop();
    return line;
  }
}
