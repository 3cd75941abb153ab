package dev.switchboard.gateway;

import dev.switchboard.support.HeldClients;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Frames over the size limit, and compressed frames that would inflate beyond it, sent through real
 * sockets while a normal pair keeps talking.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class FrameLimitsIT {

  /** How late the pair's pong may come while the gateway is under attack. */
  static final long MAX_PONG_MILLIS = 2000;
  /** What the bomb inflates to: far beyond gateway.maxFrameBytes, from a frame within it. */
  static final long BOMB_INFLATED_BYTES = 230L * 1024 * 1024;
  static final String DEFLATE_OFFERS = "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame, deflate-frame";

  @TempDir
  Path dataDir;

  @Test
  @DisplayName("a single frame larger than gateway.maxFrameBytes gets a 1009 close frame; the pair keeps talking")
  void oversizedFrameClosesWith1009(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> pair(server).compose(pair -> server.online("mallory", "m")
        .compose(mallory -> {
          mallory.socket().writeFrame(WebSocketFrame.textFrame("x".repeat(300_000), true));
          return mallory.closed().map(code -> {
            ctx.verify(() -> {
              assertEquals((short) 1009, code);
              // Clients learn the limit from the reason and settle the send instead of resending it.
              assertEquals("frame larger than 262144 bytes", mallory.socket().closeReason());
            });
            return code;
          });
        })
        .compose(code -> stillTalks(pair, "after the oversized frame"))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("compression is off by default: not negotiated, and a compressed frame sent anyway is refused uninflated (1002)")
  void compressionIsOffByDefault(Vertx vertx, VertxTestContext ctx) {
    byte[] bomb = deflateZeros(BOMB_INFLATED_BYTES);
    TestServer.start(vertx, dataDir).compose(server -> pair(server).compose(pair -> RawWs.upgrade(vertx, server.gatewayPort(),
            "/ws?user=mallory&device=m", DEFLATE_OFFERS)
        .compose(raw -> {
          ctx.verify(() -> assertFalse(raw.head.toLowerCase(Locale.ROOT).contains("sec-websocket-extensions"), raw.head));
          return underAttack(vertx, pair, () -> raw.send(0xC1, bomb).compose(v -> raw.closed.future()))
              .map(v -> raw);
        })
        .compose(raw -> {
          ctx.verify(() -> assertEquals(1002, raw.closeCode(), "close frames received: " + raw.frames()));
          return stillTalks(pair, "after the compressed frame");
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with gateway.compression on, a compression bomb is stopped while inflating (1009) and the pair's pongs stay prompt")
  void compressionBombIsBounded(Vertx vertx, VertxTestContext ctx) {
    byte[] bomb = deflateZeros(BOMB_INFLATED_BYTES);
    JsonObject compression = new JsonObject().put("gateway", new JsonObject().put("compression", true));
    TestServer.start(vertx, dataDir, compression).compose(server -> pair(server).compose(pair -> RawWs.upgrade(vertx,
            server.gatewayPort(), "/ws?user=mallory&device=m", DEFLATE_OFFERS)
        .compose(raw -> {
          ctx.verify(() -> {
            assertTrue(bomb.length < 262_144, "the compressed frame is within gateway.maxFrameBytes: " + bomb.length);
            assertTrue(raw.head.toLowerCase(Locale.ROOT).contains("permessage-deflate"), raw.head);
          });
          return underAttack(vertx, pair, () -> raw.send(0xC1, bomb).compose(v -> raw.closed.future())).map(v -> raw);
        })
        .compose(raw -> {
          ctx.verify(() -> assertEquals(1009, raw.closeCode(), "frames received: " + raw.frames()));
          return stillTalks(pair, "after the bomb");
        })
        .compose(v -> compressedClientTalks(vertx, server, pair))))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** A client that negotiates compression sends and receives messages normally. */
  private Future<Void> compressedClientTalks(Vertx vertx, TestServer server, List<WsClient> pair) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.gatewayPort())
        .setURI("/ws?user=carol&device=c").addSubProtocol("switchboard.v1");
    String body = "compressible ".repeat(2_000);
    return WsClient.connect(vertx, new WebSocketClientOptions().setTryUsePerMessageCompression(true), options)
        .compose(carol -> carol.expect("synced")
            .compose(s -> pair.get(0).sendMessage("to-carol", "carol", body))
            .compose(v -> carol.expect("message"))
            .compose(m -> m.getString("body").equals(body) ? carol.sendMessage("from-carol", "bob", body)
                : Future.failedFuture(new AssertionError("body changed on the way")))
            .compose(v -> carol.expect("accepted"))
            .compose(a -> pair.get(1).expect("message"))
            .compose(m -> m.getString("body").equals(body) ? Future.succeededFuture()
                : Future.failedFuture(new AssertionError("carol's body changed on the way"))));
  }

  private static Future<List<WsClient>> pair(TestServer server) {
    return Future.all(server.online("alice", "laptop"), server.online("bob", "phone")).map(all -> List.of(all.resultAt(0), all.resultAt(1)));
  }

  private static Future<Void> stillTalks(List<WsClient> pair, String id) {
    WsClient alice = pair.get(0);
    WsClient bob = pair.get(1);
    return alice.sendMessage(id, "bob", id)
        .compose(v -> alice.expect("accepted"))
        .compose(a -> bob.expect("message"))
        .compose(m -> id.equals(m.getString("body")) ? Future.succeededFuture()
            : Future.failedFuture(new AssertionError("bob got " + m.encode())));
  }

  /**
   * Runs {@code attack} while alice pings the server without pause; fails if a pong took longer
   * than {@link #MAX_PONG_MILLIS}.
   */
  private static Future<Void> underAttack(Vertx vertx, List<WsClient> pair, java.util.function.Supplier<Future<?>> attack) {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong worst = new AtomicLong();
    Future<Void> pings = pingLoop(vertx, pair.get(0), stop, worst);
    return attack.get()
        .eventually(() -> {
          stop.set(true);
          return pings;
        })
        .compose(v -> pings)
        .compose(v -> worst.get() <= MAX_PONG_MILLIS ? Future.<Void>succeededFuture()
            : Future.failedFuture(new AssertionError("a pong took " + worst.get() + " ms during the attack")));
  }

  private static Future<Void> pingLoop(Vertx vertx, WsClient client, AtomicBoolean stop, AtomicLong worst) {
    long sent = System.nanoTime();
    return client.send(new JsonObject().put("type", "ping"))
        .compose(v -> client.expect("pong"))
        .compose(pong -> {
          worst.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent), Math::max);
          return stop.get() ? Future.succeededFuture()
              : vertx.timer(10, TimeUnit.MILLISECONDS).compose(v -> pingLoop(vertx, client, stop, worst));
        });
  }

  /**
   * A raw-deflate stream (RFC 7692: the final 00 00 ff ff of the sync flush left off) of {@code n}
   * zero bytes: about a thousandth of their size.
   */
  static byte[] deflateZeros(long n) {
    Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
    byte[] zeros = new byte[1 << 20];
    byte[] out = new byte[1 << 16];
    Buffer compressed = Buffer.buffer();
    for (long left = n; left > 0; left -= zeros.length) {
      deflater.setInput(zeros, 0, (int) Math.min(left, zeros.length));
      while (!deflater.needsInput()) {
        compressed.appendBytes(out, 0, deflater.deflate(out, 0, out.length, Deflater.NO_FLUSH));
      }
    }
    int written;
    do {
      written = deflater.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
      compressed.appendBytes(out, 0, written);
    } while (written == out.length);
    deflater.end();
    byte[] bytes = compressed.getBytes();
    return Arrays.copyOf(bytes, bytes.length - 4);
  }

  /** A WebSocket client on a raw TCP socket: it can offer any extension and send any frame. */
  static final class RawWs {
    final NetSocket socket;
    final Buffer received = Buffer.buffer();
    final Promise<Void> closed = Promise.promise();
    String head;
    int headEnd = -1;

    private RawWs(NetSocket socket) {
      this.socket = socket;
    }

    static Future<RawWs> upgrade(Vertx vertx, int port, String uri, String extensions) {
      return HeldClients.hold(vertx.createNetClient()).connect(port, "127.0.0.1").compose(socket -> {
        RawWs ws = new RawWs(socket);
        Promise<RawWs> upgraded = Promise.promise();
        socket.handler(data -> {
          ws.received.appendBuffer(data);
          if (ws.headEnd < 0) {
            String text = ws.received.toString(StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (end >= 0) {
              ws.headEnd = end + 4;
              ws.head = text.substring(0, end);
              upgraded.tryComplete(ws);
            }
          }
        });
        socket.closeHandler(v -> {
          ws.closed.tryComplete();
          upgraded.tryFail("closed before the upgrade answer: " + ws.received);
        });
        return socket.write("GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Protocol: switchboard.v1\r\nSec-WebSocket-Extensions: " + extensions + "\r\n\r\n")
            .compose(v -> upgraded.future());
      });
    }

    /** Sends one masked frame with the given first byte (FIN, RSV and opcode bits). */
    Future<Void> send(int firstByte, byte[] payload) {
      Buffer frame = Buffer.buffer(payload.length + 14).appendByte((byte) firstByte);
      if (payload.length < 126) {
        frame.appendByte((byte) (0x80 | payload.length));
      } else if (payload.length < 65536) {
        frame.appendByte((byte) (0x80 | 126)).appendUnsignedShort(payload.length);
      } else {
        frame.appendByte((byte) (0x80 | 127)).appendLong(payload.length);
      }
      byte[] mask = new byte[4];
      ThreadLocalRandom.current().nextBytes(mask);
      frame.appendBytes(mask);
      byte[] masked = new byte[payload.length];
      for (int i = 0; i < payload.length; i++) {
        masked[i] = (byte) (payload[i] ^ mask[i & 3]);
      }
      return socket.write(frame.appendBytes(masked));
    }

    /** The server's frames after the upgrade answer, as opcode and payload. */
    List<Object[]> frames() {
      List<Object[]> frames = new ArrayList<>();
      int i = headEnd;
      while (i + 2 <= received.length()) {
        int opcode = received.getByte(i) & 0x0F;
        long length = received.getByte(i + 1) & 0x7F;
        int at = i + 2;
        if (length == 126) {
          length = received.getUnsignedShort(at);
          at += 2;
        } else if (length == 127) {
          length = received.getLong(at);
          at += 8;
        }
        if (at + length > received.length()) {
          break;
        }
        frames.add(new Object[] {opcode, received.getBuffer(at, (int) (at + length))});
        i = (int) (at + length);
      }
      return frames;
    }

    /** The status code of the server's close frame, -1 when none came. */
    int closeCode() {
      for (Object[] frame : frames()) {
        Buffer payload = (Buffer) frame[1];
        if ((int) frame[0] == 0x8 && payload.length() >= 2) {
          return payload.getUnsignedShort(0);
        }
      }
      return -1;
    }
  }
}
