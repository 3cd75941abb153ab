package dev.switchboard;

import com.hazelcast.config.Config;
import com.hazelcast.config.XmlConfigBuilder;
import dev.switchboard.routing.HazelcastUserDirectory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Loads the Hazelcast configuration: {@code conf/cluster.xml} from the working directory, else the
 * copy inside the jar. Its {@code ${switchboard.cluster.*}} placeholders come from system properties,
 * with defaults for three or more nodes on one machine. The user directory's entry processors are
 * registered here, so that they travel as identified data whatever the file says, and Hazelcast's
 * async completions get their pool ({@link HazelcastInternals}).
 */
public final class ClusterConfig {

  static final String PATH = "conf/cluster.xml";

  private ClusterConfig() {
  }

  static Properties properties() {
    Properties properties = new Properties();
    properties.setProperty("switchboard.cluster.name", "switchboard");
    properties.setProperty("switchboard.cluster.port", "5701");
    properties.setProperty("switchboard.cluster.members", "127.0.0.1:5701,127.0.0.1:5702,127.0.0.1:5703,127.0.0.1:5704");
    properties.setProperty("switchboard.cluster.interface", "127.0.0.1");
    System.getProperties().stringPropertyNames().stream()
        .filter(name -> name.startsWith("switchboard.cluster."))
        .forEach(name -> properties.setProperty(name, System.getProperty(name)));
    return properties;
  }

  public static Config load() {
    Path file = Path.of(PATH);
    try (InputStream in = Files.exists(file)
        ? Files.newInputStream(file)
        : ClusterConfig.class.getClassLoader().getResourceAsStream(PATH)) {
      if (in == null) {
        throw new IllegalStateException(PATH + " not found");
      }
      Config config = new XmlConfigBuilder(in).setProperties(properties()).build();
      config.getSerializationConfig().addDataSerializableFactory(HazelcastUserDirectory.Serialization.FACTORY_ID,
          new HazelcastUserDirectory.Serialization());
      HazelcastInternals.useAsyncPool();
      return config;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
