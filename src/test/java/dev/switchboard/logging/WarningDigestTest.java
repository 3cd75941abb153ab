package dev.switchboard.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WarningDigestTest {

  private static final String SUMMARY = "users: {}, among them {}; last cause: {}";

  private final Logger logger = (Logger) LoggerFactory.getLogger(WarningDigestTest.class);
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private long now = 1_000;
  private final WarningDigest digest =
      new WarningDigest(logger, SUMMARY, Duration.ofMinutes(1), () -> now);

  @BeforeEach
  void capture() {
    appender.start();
    logger.addAppender(appender);
    logger.setAdditive(false);
  }

  @AfterEach
  void release() {
    logger.detachAppender(appender);
    logger.setAdditive(true);
  }

  private List<String> lines() {
    appender.list.forEach(event -> assertEquals(Level.WARN, event.getLevel()));
    return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  @DisplayName("the first case is written at once; the cases within the interval after it make no line until the "
      + "interval has passed, then one line counts the distinct subjects, names the first three and the last cause")
  void countsWithinTheInterval() {
    digest.add("ann", "timed out");
    for (int i = 0; i < 200; i++) {
      digest.add("user" + i, "timed out " + i);
      digest.add("user" + i, "timed out " + i);
    }
    digest.flush();
    now += TimeUnit.SECONDS.toNanos(59);
    digest.flush();
    assertEquals(List.of("users: 1, among them ann; last cause: timed out"), lines());
    now += TimeUnit.SECONDS.toNanos(1);
    digest.flush();
    digest.flush();
    assertEquals(List.of("users: 1, among them ann; last cause: timed out",
        "users: 200, among them user0, user1, user2; last cause: timed out 199"), lines());
  }

  @Test
  @DisplayName("a case after a quiet interval is written at once, and nothing is written when nothing happened")
  void quietIntervals() {
    digest.flush();
    digest.add("ann", "refused");
    now += TimeUnit.MINUTES.toNanos(5);
    digest.flush();
    digest.add("bob", "timed out");
    digest.add("cy", "timed out");
    assertEquals(List.of("users: 1, among them ann; last cause: refused",
        "users: 1, among them bob; last cause: timed out"), lines());
    now += TimeUnit.MINUTES.toNanos(1);
    digest.add("dee", "failed");
    assertEquals("users: 2, among them cy, dee; last cause: failed", lines().get(2));
  }
}
