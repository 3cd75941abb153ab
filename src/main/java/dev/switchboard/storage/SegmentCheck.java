package dev.switchboard.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * Checks, after the start, the sealed segments the start took from their index without reading
 * them: each whole file's CRC-32C against the one its index recorded, then each page of the index's
 * messages section (which the start did not read either) against its CRC-32C in the index's summary,
 * one segment after another on one low-priority thread, so that a start need not read the whole log.
 * A mismatch goes to {@link SegmentDamage}; a segment deleted by retention meanwhile is skipped.
 */
final class SegmentCheck implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SegmentCheck.class);
  private static final int CHUNK = 1 << 20;

  private final LogFiles files;
  private final SegmentDamage damage;
  private final AtomicLong verified = new AtomicLong();
  private final AtomicInteger pending = new AtomicInteger();
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private volatile boolean stopped;
  private Thread thread;

  SegmentCheck(LogFiles files, SegmentDamage damage) {
    this.files = files;
    this.damage = damage;
  }

  /** Counts {@code segments} segments as waiting for the check, before it starts. */
  void expect(int segments) {
    pending.set(segments);
  }

  /** Starts checking {@code segments}, oldest first, on a thread of its own. */
  synchronized void start(List<LogSegments.Segment> segments) {
    pending.set(segments.size());
    if (segments.isEmpty() || stopped) {
      done.complete(null);
      return;
    }
    thread = new Thread(() -> run(segments), "inbox-log-verify");
    thread.setDaemon(true);
    // A hint where the platform honours it: reads and commits matter more than how soon the check ends.
    thread.setPriority(Thread.MIN_PRIORITY);
    thread.start();
  }

  /** Segments whose CRC-32C matched their index so far. */
  long verified() {
    return verified.get();
  }

  /** Segments still to check. */
  int pending() {
    return pending.get();
  }

  /** Completes when every segment was checked (or the check stopped). */
  CompletableFuture<Void> done() {
    return done;
  }

  private void run(List<LogSegments.Segment> segments) {
    long started = System.nanoTime();
    int unreadable = 0;
    int gone = 0;
    try {
      for (LogSegments.Segment segment : segments) {
        if (stopped) {
          return;
        }
        try {
          Integer crc = crcOf(segment);
          if (crc == null) {
            return;
          }
          String page = crc == segment.indexCrc ? damagedPage(segment) : null;
          if (stopped) {
            return;
          }
          if (crc == segment.indexCrc && page == null) {
            verified.incrementAndGet();
          } else if (page != null) {
            damage.found(segment, "the background check found " + page);
          } else {
            damage.found(segment, String.format("the background check read %08x for the whole file, where its index"
                + " recorded %08x", crc, segment.indexCrc));
          }
        } catch (NoSuchFileException e) {
          gone++;
        } catch (DamagedEntryException e) {
          damage.found(segment, e.getMessage());
        } catch (IOException e) {
          unreadable++;
          LOG.warn("inbox log: could not read {} to check it against its index ({}); it is checked again at the next"
              + " start only if its index is not trusted then", segment.file, e.toString());
        }
        pending.decrementAndGet();
      }
      LOG.info("inbox log: background check done in {} ms: {} sealed segments match their index, {} damaged, {}"
          + " unreadable, {} deleted by retention first", (System.nanoTime() - started) / 1_000_000, verified.get(),
          damage.count(), unreadable, gone);
    } finally {
      done.complete(null);
    }
  }

  /** The CRC-32C of the whole segment file, read through its own channel; null if the check stopped. */
  private Integer crcOf(LogSegments.Segment segment) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
    try (LogFiles.Channel channel = files.open(segment.file)) {
      long size = segment.size;
      long at = 0;
      while (at < size) {
        if (stopped) {
          return null;
        }
        chunk.clear().limit((int) Math.min(CHUNK, size - at));
        while (chunk.hasRemaining()) {
          int n = channel.read(chunk, at + chunk.position());
          if (n < 0) {
            throw new DamagedEntryException("the file ends at " + (at + chunk.position()) + ", before the " + size
                + " bytes its index recorded");
          }
        }
        chunk.flip();
        at += chunk.remaining();
        crc.update(chunk);
      }
    }
    return (int) crc.getValue();
  }

  /**
   * The first page of the segment's index messages section that does not match its CRC-32C (described),
   * or null if all match (or the check stopped).
   */
  private String damagedPage(LogSegments.Segment segment) throws IOException {
    SegmentIndex.Messages messages = segment.messages;
    java.nio.file.Path index = SegmentIndex.fileFor(segment.file);
    CRC32C crc = new CRC32C();
    ByteBuffer page = ByteBuffer.allocate(SegmentIndex.PAGE_BYTES);
    if (segment.summaryUnread) {
      String summary = SegmentIndex.damagedSummary(files, index);
      if (summary != null) {
        return summary;
      }
    }
    int[] pageCrcs;
    try {
      pageCrcs = messages.pageCrcs(segment, files);
    } catch (DamagedEntryException e) {
      return e.getMessage();
    }
    try (LogFiles.Channel channel = files.open(index)) {
      for (int p = 0; p < pageCrcs.length && !stopped; p++) {
        page.clear().limit(messages.pageLength(p));
        long at = messages.at() + (long) p * SegmentIndex.PAGE_BYTES;
        while (page.hasRemaining()) {
          if (channel.read(page, at + page.position()) < 0) {
            return "the index " + index + " ends inside page " + p + " of its messages section";
          }
        }
        crc.reset();
        crc.update(page.flip());
        if ((int) crc.getValue() != pageCrcs[p]) {
          return "page " + p + " of the messages section of its index " + index
              + " does not match the CRC-32C the index holds for it";
        }
      }
    }
    return null;
  }

  /** Stops the check (the store is closing) and waits for its thread. */
  @Override
  public void close() {
    Thread running;
    synchronized (this) {
      stopped = true;
      running = thread;
    }
    if (running != null) {
      try {
        running.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    done.complete(null);
  }
}
