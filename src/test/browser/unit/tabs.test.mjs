// One owner of the outbox across tabs (Web Locks and BroadcastChannel), with two clients of one
// user and device in one process: a shared storage, FakeLocks and Node's own BroadcastChannel.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientMaker, FakeLocks, FakeServer, MemoryStorage, nextEvent, record, within } from './fake.mjs';

const make = clientMaker({ minReconnectDelay: 10, maxReconnectDelay: 100, BroadcastChannel });

function makeTab(server, shared, options = {}) {
  return make(server, { storage: shared.storage, locks: shared.locks, storagePrefix: shared.prefix, ...options });
}

let run = 0;
const sharedTabs = () => ({ storage: new MemoryStorage(), locks: new FakeLocks(), prefix: `tabs-${++run}` });

/** Every send frame the server received, as [connection index, id]. */
function writes(server) {
  return server.connections.flatMap((c, i) => c.frames.filter((f) => f.type === 'send').map((f) => [i, f.id]));
}

describe('tabs coordinated by Web Locks and BroadcastChannel', () => {
  test('sends made in two tabs are written by the owner tab only, once each; each promise settles in its own tab', async () => {
    const server = await new FakeServer().start();
    const shared = sharedTabs();
    const a = makeTab(server, shared);
    const b = makeTab(server, shared);
    const acceptedInA = record(a, 'accepted');
    const acceptedInB = record(b, 'accepted');
    const aSynced = nextEvent(a, 'synced');
    a.connect();
    await within(aSynced, 5000, 'a synced');
    const bSynced = nextEvent(b, 'synced');
    b.connect();
    await within(bSynced, 5000, 'b synced');
    const ids = [];
    const sends = [];
    for (let i = 0; i < 3; i += 1) {
      for (const [tab, name] of [[a, 'a'], [b, 'b']]) {
        const p = tab.send('bob', `${name}${i}`, { id: `${name}-${i}` });
        ids.push(p.id);
        sends.push(p);
      }
    }
    const results = await within(Promise.all(sends), 5000, 'every send accepted');
    assert.deepEqual(results.map((r) => r.id), ids);
    const written = writes(server);
    assert.deepEqual(written.map(([, id]) => id).sort(), [...ids].sort(), 'each written once');
    assert.equal(new Set(written.map(([conn]) => conn)).size, 1, 'all by one tab');
    for (const name of ['a', 'b']) {
      // Each tab's own order holds; between tabs, a send made elsewhere reaches the owner a moment later.
      assert.deepEqual(server.acceptedSends.map((s) => s.id).filter((id) => id.startsWith(name)),
        ids.filter((id) => id.startsWith(name)), `tab ${name}'s sends in the order made`);
    }
    assert.deepEqual(acceptedInA.map((x) => x.id).sort(), [...ids].sort(), 'every tab hears of every send');
    assert.deepEqual(acceptedInB.map((x) => x.id).sort(), [...ids].sort());
    assert.deepEqual([...shared.storage.map.keys()].filter((k) => k.includes(':outbox:')), []);
    await server.stop();
  });

  test('when the owner tab goes, the other tab takes over its unanswered sends and the promise still settles', async () => {
    let dropped = 0;
    const server = await new FakeServer({
      hooks: { onSend: (f) => (f.id === 'h-1' && dropped++ === 0 ? 'drop' : null) },
    }).start();
    const shared = sharedTabs();
    const owner = makeTab(server, shared);
    const other = makeTab(server, shared);
    const ownerSynced = nextEvent(owner, 'synced');
    owner.connect();
    await within(ownerSynced, 5000, 'owner synced');
    const otherSynced = nextEvent(other, 'synced');
    other.connect();
    await within(otherSynced, 5000, 'other synced');
    const sent = other.send('bob', 'handed over', { id: 'h-1' });
    const firstWrite = new Promise((resolve) => {
      const timer = setInterval(() => {
        if (dropped > 0) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    await within(firstWrite, 5000, 'written by the owner (and left unanswered)');
    owner.close();
    const accepted = await within(sent, 5000, 'accepted after the hand-over');
    assert.equal(accepted.id, 'h-1');
    assert.deepEqual(server.acceptedSends.map((s) => s.id), ['h-1']);
    const written = writes(server).filter(([, id]) => id === 'h-1');
    assert.equal(written.length, 2, 'written by the owner, then once more by the tab that took over');
    assert.notEqual(written[0][0], written[1][0]);
    await server.stop();
  });
});
