package dev.switchboard.bus;

import dev.switchboard.protocol.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/event-bus.md must give publishers the failure codes the code sends. */
class EventBusDocsTest {

  @Test
  @DisplayName("every failure code docs/event-bus.md names is ErrorCode.failureCode() of that code, with its retry flag")
  void failureCodesMatch() throws IOException {
    String doc = Files.readString(Path.of("docs/event-bus.md"));
    Matcher row = Pattern.compile("\\| `([a-z_]+)` \\| (\\d{4}) \\| (yes|no) \\|").matcher(doc);
    int rows = 0;
    while (row.find()) {
      ErrorCode code = ErrorCode.fromWireName(row.group(1));
      assertEquals(row.group(1), code.wireName(), "docs/event-bus.md names an unknown code");
      assertEquals(code.failureCode(), Integer.parseInt(row.group(2)), "failure code of " + row.group(1));
      assertEquals(code.retryable() ? "yes" : "no", row.group(3), "retry of " + row.group(1));
      rows++;
    }
    assertTrue(rows >= 5, "docs/event-bus.md lists the failure codes of switchboard.push");
    assertTrue(doc.contains("`" + Addresses.API_KEY_HEADER + "`"), "docs/event-bus.md names the API key header");
  }
}
