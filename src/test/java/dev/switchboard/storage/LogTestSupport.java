package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the log engine's fault tests share: a Vert.x context to call the store from, settings with
 * tiny segments, blocking waits on the store's futures, and file surgery.
 */
abstract class LogTestSupport {

  static final long HOUR = 3_600_000;

  @TempDir
  Path dataDir;

  Vertx vertx;
  /** The store's calls all come from this one context, as they do from the inbox verticle. */
  Context context;

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void stopVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Log engine settings with segments of {@code segmentBytes} (far below the 1 MiB the config file allows). */
  InboxConfig config(long segmentBytes) {
    return config(segmentBytes, false);
  }

  InboxConfig config(long segmentBytes, boolean repair) {
    return config(dataDir, segmentBytes, repair);
  }

  /** Log engine settings for the data directory {@code dir}: retention an hour, key window a minute. */
  static InboxConfig config(Path dir, long segmentBytes, boolean repair) {
    return config(dir, segmentBytes, repair, true);
  }

  /** As above; {@code verifyInBackground} false makes the start read every sealed segment whole, as before. */
  static InboxConfig config(Path dir, long segmentBytes, boolean repair, boolean verifyInBackground) {
    return new InboxConfig(InboxConfig.Engine.LOG, dir.toString(), HOUR, 100_000, 60_000, 60_000, 1000, 0, 200,
        "FULL", segmentBytes, repair, List.of("postgresql://x@127.0.0.1/x"), 1, 3_600_000, 5_000, 1, 0, false, 10_000, 1,
        verifyInBackground,
        10_000, 1_000, 100, 100);
  }

  /** Runs {@code call} on the store's context and waits for its outcome. */
  <T> T await(Supplier<Future<T>> call) throws Exception {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        call.get().onComplete(ar -> {
          if (ar.succeeded()) {
            done.complete(ar.result());
          } else {
            done.completeExceptionally(ar.cause());
          }
        });
      } catch (RuntimeException e) {
        done.completeExceptionally(e);
      }
    });
    try {
      return done.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  /** The failure of {@code call}, which must fail. */
  Throwable failure(Supplier<Future<?>> call) {
    Exception e = assertThrows(Exception.class, () -> await(call::get));
    return e;
  }

  static AppendRequest send(String to, String body, long ts) {
    return new AppendRequest("alice", body, ts, null, List.of(new AppendRequest.Recipient(to, "m-" + body)));
  }

  long append(InboxStore store, String to, String body, long ts) throws Exception {
    List<AppendResult> results = await(() -> store.append(List.of(send(to, body, ts)), List.of(), ts));
    return results.get(0).results().get(0).seq();
  }

  /**
   * The clock a test's store starts with: the tests' appends pass times near the epoch, so a start at
   * time 0 reads every idempotency key they wrote, as their later appends (at those times) expect.
   */
  static final LongSupplier TEST_CLOCK = () -> 0L;

  LogInboxStore open(InboxConfig config, LogFiles files) throws Exception {
    LogInboxStore store = new LogInboxStore(vertx, config, files, TEST_CLOCK);
    await(store::open);
    return store;
  }

  LogInboxStore open(InboxConfig config) throws Exception {
    return open(config, SystemLogFiles.INSTANCE);
  }

  List<Path> segments() throws IOException {
    return segments(dataDir);
  }

  /** The segment files under data directory {@code dir}, oldest first. */
  static List<Path> segments(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir.resolve("log"))) {
      return files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
    }
  }

  static void overwrite(Path file, long offset, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(bytes), offset);
    }
  }

  static void flipByte(Path file, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, offset);
      b.put(0, (byte) (b.get(0) ^ 0x5A));
      ch.write(b.flip(), offset);
    }
  }

  /** Every message of {@code user} readable at {@code now}, checked for rising seqs without doubles. */
  List<StoredMessage> readAll(InboxStore store, String user, long now) throws Exception {
    InboxPage page = await(() -> store.read(user, 0, 1_000_000, now));
    Set<Long> seqs = new HashSet<>();
    long previous = 0;
    for (StoredMessage m : page.messages()) {
      assertTrue(seqs.add(m.seq()), "seq " + m.seq() + " twice in " + page.messages());
      assertTrue(m.seq() > previous, "seqs out of order: " + page.messages());
      assertTrue(m.seq() <= page.head(), "seq past the head: " + page);
      previous = m.seq();
    }
    return page.messages();
  }

  /** Copies a data directory's log (segments and quarantine) to another data directory. */
  static void copyLog(Path from, Path to) throws IOException {
    Path target = to.resolve("log");
    Files.createDirectories(target);
    for (Path p : segments(from)) {
      Files.copy(p, target.resolve(p.getFileName()));
    }
  }

  /** Offsets of the records in a segment file, from its header on. */
  static List<Long> recordOffsets(Path segment) throws IOException {
    List<Long> offsets = new java.util.ArrayList<>();
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
      long at = LogSegments.FILE_HEADER;
      ByteBuffer header = ByteBuffer.allocate(LogSegments.RECORD_HEADER);
      while (at + LogSegments.RECORD_HEADER <= ch.size()) {
        header.clear();
        ch.read(header, at);
        offsets.add(at);
        at += LogSegments.RECORD_HEADER + header.getInt(0);
      }
    }
    return offsets;
  }

  /** Captures what the storage package logs while {@code body} runs. */
  static List<ch.qos.logback.classic.spi.ILoggingEvent> logged(ThrowingRunnable body) throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.switchboard.storage");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      body.run();
    } finally {
      logger.detachAppender(appender);
    }
    return new ArrayList<>(appender.list);
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  static List<String> bodies(List<StoredMessage> messages) {
    return messages.stream().map(StoredMessage::body).toList();
  }

}
