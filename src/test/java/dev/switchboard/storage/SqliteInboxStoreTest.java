package dev.switchboard.storage;

import dev.switchboard.config.InboxConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The store contract on the embedded engine: SQLite on a real file in a temporary directory. */
class SqliteInboxStoreTest extends InboxStoreContractTest {

  @Override
  JsonObject engineSettings() {
    return new JsonObject().put("engine", "sqlite");
  }

  @Override
  InboxStore newStore(Vertx vertx, InboxConfig config) {
    return new SqliteInboxStore(vertx, config);
  }
}
