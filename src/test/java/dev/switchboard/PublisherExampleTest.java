package dev.switchboard;

import dev.switchboard.support.PublisherExample;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The example publisher stays a separate program that a back end can build against the same Vert.x. */
class PublisherExampleTest {

  @Test
  @DisplayName("examples/publisher/pom.xml names the Vert.x and Logback versions the server is built with")
  void sameVersions() throws Exception {
    String server = Files.readString(Path.of("pom.xml"));
    String example = Files.readString(Path.of("examples", "publisher", "pom.xml"));
    for (String property : List.of("vertx.version", "logback.version")) {
      assertEquals(property(server, property), property(example, property), property);
    }
  }

  @Test
  @DisplayName("the example publisher compiles against Vert.x and Hazelcast without Switchboard's classes")
  void compilesOnItsOwn() {
    List<String> command = PublisherExample.command(List.of());
    assertTrue(command.contains(PublisherExample.MAIN_CLASS), String.valueOf(command));
    Path build = Path.of("target").toAbsolutePath();
    String classpath = command.get(command.indexOf(PublisherExample.MAIN_CLASS) - 1);
    assertTrue(classpath.contains("examples"), classpath);
    assertTrue(!classpath.contains(build.resolve("classes").toString()), classpath);
  }

  private static String property(String pom, String name) {
    Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
    assertTrue(m.find(), name + " missing");
    return m.group(1);
  }
}
