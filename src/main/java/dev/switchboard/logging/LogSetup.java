package dev.switchboard.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import org.slf4j.LoggerFactory;

import java.net.URL;

/**
 * The {@code logging} section applied to Logback: {@code logging.json} replaces the text layout of
 * {@code logback.xml} with {@code logback-json.xml} (Logback's own JSON encoder, one object per
 * line), {@code logging.level} sets Switchboard's own loggers, and every line names the node once
 * its id is known.
 */
public final class LogSetup {

  public static final String CONFIG_RESOURCE = "logback-json.xml";
  /** The context property every JSON line carries under {@code context.properties}. */
  public static final String NODE_PROPERTY = "node";

  private LogSetup() {
  }

  /** Reconfigures Logback for JSON lines; a no-op when SLF4J is not bound to Logback. */
  public static void switchOn() {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    configure(context);
  }

  /** Configures {@code context} from {@link #CONFIG_RESOURCE}, replacing what it had. */
  public static void configure(LoggerContext context) {
    URL config = LogSetup.class.getClassLoader().getResource(CONFIG_RESOURCE);
    if (config == null) {
      throw new IllegalStateException(CONFIG_RESOURCE + " is missing from the class path");
    }
    String node = context.getProperty(NODE_PROPERTY);
    context.reset();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    try {
      configurator.doConfigure(config);
    } catch (JoranException e) {
      throw new IllegalStateException("could not apply " + CONFIG_RESOURCE, e);
    }
    if (node != null) {
      context.putProperty(NODE_PROPERTY, node);
    }
  }

  /** Sets the level of Switchboard's loggers ({@code dev.switchboard}); the libraries keep theirs. */
  public static void level(String level) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.getLogger("dev.switchboard").setLevel(Level.toLevel(level));
    }
  }

  /** Names the node in every line from now on (in either format: the text layout ignores it). */
  public static void nodeId(String node) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.putProperty(NODE_PROPERTY, node);
    }
  }
}
