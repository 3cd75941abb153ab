package dev.switchboard.support;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Switchboard in a child JVM, started through its real main class, so a test can kill it with
 * SIGKILL and start it again. Blocking: call it from the test thread or executeBlocking.
 */
public final class ProcessServer implements AutoCloseable {

  // Slashes may come escaped ("http:\/\/"), as the JSON log format writes them.
  private static final Pattern GATEWAY = Pattern.compile("gateway listening on https?:\\\\?/\\\\?/[^:]+:(\\d+)");
  private static final Pattern PUSH = Pattern.compile("push API listening on https?:\\\\?/\\\\?/[^:]+:(\\d+)");
  private static final String STARTED = "switchboard started: ";

  private final Process process;
  private final CompletableFuture<Integer> gatewayPort = new CompletableFuture<>();
  private final CompletableFuture<Integer> pushPort = new CompletableFuture<>();
  private final CompletableFuture<String> started = new CompletableFuture<>();
  private final List<String> output = new ArrayList<>();

  private ProcessServer(Process process) {
    this.process = process;
    Thread reader = new Thread(this::readOutput, "process-server-output");
    reader.setDaemon(true);
    reader.start();
  }

  public static ProcessServer start(Path dataDir) throws Exception {
    return start(dataDir, new JsonObject(), List.of(), List.of());
  }

  /**
   * Starts {@code dev.switchboard.Switchboard} with the test config plus {@code overrides}, extra JVM
   * arguments (system properties) and extra launcher arguments (such as {@code -cluster}).
   */
  public static ProcessServer start(Path dataDir, JsonObject overrides, List<String> jvmArgs, List<String> appArgs)
      throws Exception {
    JsonObject conf = TestServer.config(dataDir, overrides);
    List<String> command = new ArrayList<>(javaCommand(jvmArgs, "dev.switchboard.Switchboard"));
    command.add("-conf");
    command.add(conf.encode());
    command.addAll(appArgs);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    ProcessServer server = new ProcessServer(process);
    try {
      server.gatewayPort.get(60, TimeUnit.SECONDS);
      server.pushPort.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IllegalStateException("server did not start: " + server.output(), e);
    }
    return server;
  }

  /** {@code java [jvmArgs] -cp <test classpath> mainClass}, with the production logging config. */
  public static List<String> javaCommand(List<String> jvmArgs, String mainClass) {
    return javaCommand(jvmArgs, System.getProperty("java.class.path"), mainClass);
  }

  /** {@code java [jvmArgs] -cp classpath mainClass}, with the production logging config. */
  public static List<String> javaCommand(List<String> jvmArgs, String classpath, String mainClass) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // The production logging config, not the test one: the server's INFO lines say where it listens.
    String logging = ProcessServer.class.getClassLoader().getResource("logback.xml").toString();
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("-Xmx512m");
    // What the fat jar's manifest grants when run with java -jar (Hazelcast's internal access).
    command.addAll(List.of("--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens", "java.management/sun.management=ALL-UNNAMED",
        "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED"));
    command.add("-Dlogback.configurationFile=" + logging);
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(classpath);
    command.add(mainClass);
    return command;
  }

  private void readOutput() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        synchronized (output) {
          output.add(line);
        }
        complete(GATEWAY.matcher(line), gatewayPort);
        complete(PUSH.matcher(line), pushPort);
        if (line.contains(STARTED)) {
          started.complete(line);
        }
      }
    } catch (IOException ignored) {
      // the process is gone
    }
  }

  private static void complete(Matcher matcher, CompletableFuture<Integer> port) {
    if (matcher.find()) {
      port.complete(Integer.parseInt(matcher.group(1)));
    }
  }

  public int gatewayPort() {
    return gatewayPort.join();
  }

  public int pushPort() {
    return pushPort.join();
  }

  /** The line announcing that every verticle is deployed. */
  public CompletableFuture<String> startedLine() {
    return started;
  }

  public long pid() {
    return process.pid();
  }

  public String output() {
    synchronized (output) {
      return String.join("\n", output);
    }
  }

  /** SIGKILL: no shutdown hook, no flush, no goodbye. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the graceful stop. */
  public int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
