package dev.switchboard.storage;

import dev.switchboard.config.InboxConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The store contract on the embedded SQLite engine. */
class SqliteInboxStoreTest extends InboxStoreContract {

  @Override
  JsonObject engine() {
    return new JsonObject().put("engine", "sqlite");
  }

  @Override
  InboxStore create(Vertx vertx, InboxConfig config) {
    return new SqliteInboxStore(vertx, config);
  }
}
