package dev.switchboard.storage;

import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.StoredMessage;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;

/**
 * The rows an append plan writes, as statement parameters in the column order both engines use:
 * messages (recipient, seq, msg_id, sender, body, created_at), heads (recipient, last_seq, stored),
 * keys (sender, send_key, created_at, fingerprint, result), cursors (recipient, device, seq, updated_at).
 */
record PlanRows(List<Tuple> messages, List<Tuple> heads, List<Tuple> keys, List<Tuple> cursors) {

  static PlanRows of(AppendPlanner.Plan plan, List<CursorUpdate> cursorUpdates, long now) {
    List<Tuple> messages = new ArrayList<>(plan.rows().size());
    for (StoredMessage m : plan.rows()) {
      messages.add(Tuple.of(m.to(), m.seq(), m.msgId(), m.from(), m.body(), m.ts()));
    }
    List<Tuple> heads = new ArrayList<>(plan.heads().size());
    plan.heads().forEach((user, head) -> heads.add(Tuple.of(user, head.lastSeq(), head.stored())));
    List<Tuple> keys = new ArrayList<>(plan.newKeys().size());
    for (AppendPlanner.NewSendKey k : plan.newKeys()) {
      keys.add(Tuple.of(k.key().sender(), k.key().key(), now, k.keyed().fingerprint(), k.keyed().result().toJson().encode()));
    }
    List<Tuple> cursors = new ArrayList<>(cursorUpdates.size());
    for (CursorUpdate c : cursorUpdates) {
      cursors.add(Tuple.of(c.user(), c.device(), c.seq(), now));
    }
    return new PlanRows(messages, heads, keys, cursors);
  }
}
