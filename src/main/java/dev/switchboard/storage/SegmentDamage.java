package dev.switchboard.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * Sealed segments found damaged while the store runs (by the background check, or by a read whose
 * message does not match its index). The node keeps running: new records go to the active segment,
 * which is unaffected. Each damaged segment is logged once at ERROR with the repair to make, and a
 * marker file {@code <segment>.damaged} is written next to it, so that the next start reads that
 * segment record by record instead of trusting its index, and refuses if a record is damaged.
 * Safe for the read workers and the check's thread at once.
 */
final class SegmentDamage {

  private static final Logger LOG = LoggerFactory.getLogger(SegmentDamage.class);
  static final String SUFFIX = ".damaged";

  private final LogFiles files;
  private final ConcurrentSkipListSet<String> damaged = new ConcurrentSkipListSet<>();

  SegmentDamage(LogFiles files) {
    this.files = files;
  }

  /** The marker file of {@code segmentFile} ({@code N.log} has {@code N.log.damaged}). */
  static Path markerFor(Path segmentFile) {
    return segmentFile.resolveSibling(segmentFile.getFileName() + SUFFIX);
  }

  /** Records that {@code segment} is damaged ({@code what}: how it was found); logged and marked once per segment. */
  void found(LogSegments.Segment segment, String what) {
    if (!damaged.add(segment.file.toString())) {
      return;
    }
    String marked = mark(segment.file, what);
    LOG.error("inbox log: {} is damaged: its CRC-32C does not match its index ({}). The node keeps running and"
        + " accepting (new records go to the active segment); reads of the damaged messages fail rather than return"
        + " damaged bytes. {} Repair (docs/storage.md, Repair): keep a copy of {}, restart, and if the start is"
        + " refused for this file, start once with inbox.logRepair=true", segment.file, what, marked,
        segment.file.getParent());
  }

  /** {@code segment} was deleted by retention: its damage is gone with it. */
  void deleted(LogSegments.Segment segment) {
    if (damaged.remove(segment.file.toString())) {
      LOG.info("inbox log: damaged {} expired and was deleted", segment.file);
    }
  }

  /** The damaged segments' files, sorted. */
  List<String> files() {
    return List.copyOf(damaged);
  }

  int count() {
    return damaged.size();
  }

  /** Writes the marker; returns what the ERROR line says of it. */
  private String mark(Path segmentFile, String what) {
    Path marker = markerFor(segmentFile);
    try {
      try (LogFiles.Channel out = files.create(marker)) {
        ByteBuffer text = ByteBuffer.wrap((what + "\n").getBytes(StandardCharsets.UTF_8));
        long at = 0;
        while (text.hasRemaining()) {
          at += out.write(text, at);
        }
        out.force(true);
      }
      files.syncDirectory(segmentFile.getParent());
    } catch (FileAlreadyExistsException e) {
      return "Marked " + marker + " already, so the next start reads the whole segment.";
    } catch (IOException e) {
      return "Writing the marker " + marker + " failed (" + e + "): the next start may take the segment from its"
          + " index again, and the background check will find the damage again.";
    }
    return "Marked " + marker + ": the next start reads every record of the segment.";
  }
}
