package dev.switchboard;

import io.vertx.core.Deployable;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;

import java.util.function.Supplier;

/**
 * The command line: the Vert.x application launcher running {@link SwitchboardVerticle}.
 * {@code -conf file.json} (or inline JSON) overrides {@code conf/config.json}; environment
 * variables override both.
 */
public final class Switchboard extends VertxApplication implements VertxApplicationHooks {

  public Switchboard(String[] args) {
    super(args);
  }

  public static void main(String[] args) {
    new Switchboard(args).launch();
  }

  @Override
  public Supplier<? extends Deployable> verticleSupplier() {
    return SwitchboardVerticle::new;
  }
}
