package dev.switchboard.bus;

import dev.switchboard.protocol.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AppendResultTest {

  private static String text(Random random) {
    StringBuilder s = new StringBuilder();
    int length = 1 + random.nextInt(20);
    for (int c = 0; c < length; c++) {
      s.append((char) (random.nextBoolean() ? random.nextInt(128) : random.nextInt(0xD800)));
    }
    return s.toString();
  }

  @Test
  @DisplayName("encode() writes exactly what toJson().encode() does (also for a push's SendOutcome), and fromJson reads it back")
  void encodeMatchesJsonObject() {
    Random random = new Random(11);
    ErrorCode[] codes = ErrorCode.values();
    for (int i = 0; i < 2_000; i++) {
      List<RecipientResult> results = new ArrayList<>();
      int n = random.nextInt(4);
      for (int r = 0; r < n; r++) {
        RecipientResult result = random.nextInt(4) == 0
            ? RecipientResult.refused(text(random), codes[random.nextInt(codes.length)])
            : RecipientResult.stored(text(random), "m-" + i + "-" + r, random.nextInt(1_000_000), random.nextLong() >>> 20);
        if (result.isStored() && random.nextBoolean()) {
          result = result.withOnline(random.nextBoolean());
        }
        results.add(result);
      }
      AppendResult result = new AppendResult(random.nextBoolean(), results);
      String encoded = result.encode();
      assertEquals(result.toJson().encode(), encoded);
      assertEquals(result, AppendResult.fromJson(new io.vertx.core.json.JsonObject(encoded)));
      SendOutcome outcome = new SendOutcome(result.duplicate(), results);
      assertEquals(outcome.toJson().encode(), outcome.encode());
    }
  }
}
