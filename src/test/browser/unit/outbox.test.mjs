// The stored outbox and cursor shared by tabs, its bounds, and storage failures (issue defects
// 3 and 5), against a fake gateway and in-memory localStorage-like stores.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientMaker, FakeServer, MemoryStorage, nextEvent, record, until, within } from './fake.mjs';

const makeClient = clientMaker({ minReconnectDelay: 10, maxReconnectDelay: 100, restartDelay: 100 });

describe('two tabs sharing one storage', () => {
  test('sends queued in two tabs all survive a reload; none is lost to the other tab\'s write', () => {
    const storage = new MemoryStorage();
    const a = makeClient(null, { storage, url: 'ws://127.0.0.1:9/ws' });
    const b = makeClient(null, { storage, url: 'ws://127.0.0.1:9/ws' });
    for (let i = 0; i < 3; i += 1) {
      a.send('bob', `from a ${i}`, { id: `a-${i}` });
      b.send('bob', `from b ${i}`, { id: `b-${i}` });
    }
    const reloaded = makeClient(null, { storage, url: 'ws://127.0.0.1:9/ws' });
    assert.deepEqual(reloaded.pending.map((p) => p.id).sort(), ['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2']);
  });

  test('a send accepted in one tab leaves the other tab\'s queued sends in storage', async () => {
    const server = await new FakeServer().start();
    const storage = new MemoryStorage();
    const a = makeClient(server, { storage });
    const b = makeClient(server, { storage });
    const fromA = a.send('bob', 'from a', { id: 'a-x' });
    b.send('bob', 'from b', { id: 'b-x' });
    a.connect();
    await within(fromA, 5000, 'a\'s send accepted');
    const reloaded = makeClient(server, { storage });
    assert.ok(reloaded.pending.some((p) => p.id === 'b-x'), 'b\'s send is still stored');
    await server.stop();
  });

  test('the stored cursor never moves back when a tab that is catching up writes it', async () => {
    const server = await new FakeServer().start();
    for (let i = 1; i <= 10; i += 1) server.store('alice', `n${i}`);
    const storage = new MemoryStorage();
    // Two tabs opened together, before either knew a seq; the first one catches up alone.
    const ahead = makeClient(server, { storage });
    const behind = makeClient(server, { storage });
    const synced = nextEvent(ahead, 'synced');
    ahead.connect();
    assert.equal((await within(synced, 5000, 'first tab synced')).seq, 10);
    const seqKey = [...storage.map.keys()].find((k) => k.includes(':seq:'));
    const written = [];
    const setItem = storage.setItem.bind(storage);
    storage.setItem = (k, v) => {
      if (k === seqKey) written.push(v);
      setItem(k, v);
    };
    const messages = record(behind, 'message');
    const behindSynced = nextEvent(behind, 'synced');
    behind.connect();
    await within(behindSynced, 5000, 'second tab synced');
    assert.equal(messages.length, 10, 'the second tab still sees every message itself');
    const seqOf = (v) => {
      const parsed = JSON.parse(v);
      return typeof parsed === 'number' ? parsed : parsed.seq;
    };
    assert.ok(written.every((v) => seqOf(v) >= 10), `stored cursor went back: ${written}`);
    assert.equal(makeClient(server, { storage }).lastSeq, 10);
    await server.stop();
  });
});

describe('storage: one record per send, bounds, failures', () => {
  test('queueing a send writes that send only, not the whole list again', () => {
    const storage = new MemoryStorage();
    const client = makeClient(null, { storage, url: 'ws://127.0.0.1:9/ws' });
    const body = 'w'.repeat(1000);
    for (let i = 0; i < 50; i += 1) client.send('bob', body, { id: `w-${i}` });
    const outboxWrites = storage.writes.filter((w) => w.key.includes(':outbox'));
    const total = outboxWrites.reduce((n, w) => n + w.length, 0);
    assert.ok(total < 50 * 1300, `wrote ${total} characters for 50 sends of 1,000`);
  });

  test('120 sends of 60 KB against a 5 MB quota: each failed write is an event, and every send is still sent', async () => {
    const server = await new FakeServer().start();
    const storage = new MemoryStorage({ quota: 5_000_000 });
    const client = makeClient(server, { storage, maxQueuedBytes: 16 * 1024 * 1024 });
    const storageEvents = record(client, 'storage');
    const body = 'q'.repeat(60_000);
    const sends = [];
    for (let i = 0; i < 120; i += 1) sends.push(client.send('bob', body, { id: `big-${i}` }));
    assert.ok(storage.failures > 0, 'the quota was hit');
    assert.equal(storageEvents.length, storage.failures, 'one event per failed write');
    assert.ok(storageEvents.every((e) => e.error?.name === 'QuotaExceededError'));
    assert.equal(client.pending.length, 120, 'nothing dropped from memory');
    client.connect();
    const settled = await within(Promise.allSettled(sends), 30_000, 'every send settled');
    assert.deepEqual(settled.filter((s) => s.status === 'rejected').map((s) => s.reason.code), []);
    assert.equal(new Set(server.acceptedSends.map((s) => s.id)).size, 120);
    assert.equal([...storage.map.keys()].filter((k) => k.includes(':outbox')).length, 0, 'storage emptied again');
    await server.stop();
  });

  test('a send over the count or byte bound of the outbox is rejected at once', async () => {
    const client = makeClient(null, { url: 'ws://127.0.0.1:9/ws', maxQueued: 3, maxQueuedBytes: 1000 });
    for (let i = 0; i < 3; i += 1) client.send('bob', `c${i}`);
    const overCount = await client.send('bob', 'one too many').then(() => null, (e) => e);
    assert.equal(overCount?.code, 'queue_full');
    const other = makeClient(null, { url: 'ws://127.0.0.1:9/ws', device: 'd2', maxQueuedBytes: 1000 });
    other.send('bob', 'b'.repeat(600));
    const overBytes = await other.send('bob', 'b'.repeat(600)).then(() => null, (e) => e);
    assert.equal(overBytes?.code, 'queue_full');
  });

  test('a send that went out but was never answered is not kept past the idempotency window without telling the page', async () => {
    let clock = Date.now();
    const server = await new FakeServer({ hooks: { onSend: () => 'drop' } }).start();
    const storage = new MemoryStorage();
    const client = makeClient(server, { storage, now: () => clock, maxAge: 60_000, sweepInterval: 20 });
    const sent = client.send('bob', 'into the void', { id: 'void-1' });
    const errors = record(client, 'error');
    client.connect();
    await until(() => server.connections.some((c) => c.frames.some((f) => f.id === 'void-1')), { message: 'written' });
    clock += 61_000;
    const error = await within(sent.then(() => null, (e) => e), 5000, 'the send settled');
    assert.equal(error?.code, 'expired');
    assert.ok(errors.some((e) => e.id === 'void-1' && e.code === 'expired'));
    assert.deepEqual(client.pending, []);
    await server.stop();
  });
});
