package dev.switchboard.support;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The example publisher (examples/publisher), compiled from its sources against the libraries only,
 * never Switchboard's classes, and run in a child JVM the way a back end would run it.
 */
public final class PublisherExample {

  public static final String MAIN_CLASS = "dev.switchboard.examples.ExamplePublisher";
  static final Path SOURCES = Path.of("examples", "publisher", "src", "main", "java");
  static final Path CLASSES = Path.of("target", "examples", "publisher", "classes");

  private static String classpath;

  private PublisherExample() {
  }

  /** {@code java [jvmArgs] -cp <example and libraries> ExamplePublisher}: the caller appends its arguments. */
  public static synchronized List<String> command(List<String> jvmArgs) {
    if (classpath == null) {
      classpath = compile();
    }
    return ProcessServer.javaCommand(jvmArgs, classpath, MAIN_CLASS);
  }

  /** Compiles the example into {@link #CLASSES} and returns the classpath that runs it. */
  private static String compile() {
    // The test classpath without this build's own output: the example must need Vert.x and Hazelcast only.
    Path build = Path.of("target").toAbsolutePath();
    String libraries = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(entry -> !Path.of(entry).toAbsolutePath().startsWith(build))
        .collect(Collectors.joining(File.pathSeparator));
    List<String> args = new ArrayList<>(List.of("--release", "17", "-d", CLASSES.toString(), "-cp", libraries));
    try (Stream<Path> files = Files.walk(SOURCES)) {
      files.filter(file -> file.toString().endsWith(".java")).forEach(file -> args.add(file.toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    if (javac.run(null, errors, errors, args.toArray(String[]::new)) != 0) {
      throw new IllegalStateException("examples/publisher does not compile on its own: " + errors);
    }
    return CLASSES.toAbsolutePath() + File.pathSeparator + libraries;
  }
}
