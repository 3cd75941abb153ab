// Reconnects, back-off, the state machine and cursor_reset (issue defects 6 and 7), against a
// fake gateway. Back-off is checked through the `delay` the client announces with each
// `reconnecting` state, with an injected random source, so nothing here waits and hopes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientMaker, FakeServer, MemoryStorage, nextEvent, record, seededRandom, WebSocket, within } from './fake.mjs';

const makeClient = clientMaker();

describe('cursor_reset', () => {
  test('a browser remembering seq 100 sees the 5 messages stored after a wipe', async () => {
    const server = await new FakeServer().start();
    for (let i = 1; i <= 5; i += 1) server.store('alice', `after wipe ${i}`);
    const storage = new MemoryStorage();
    storage.setItem('switchboard:seq:alice:d1', '100');
    const client = makeClient(server, { storage, minReconnectDelay: 10 });
    const messages = record(client, 'message');
    const reset = nextEvent(client, 'error', (e) => e.code === 'cursor_reset');
    client.connect();
    await within(reset, 5000, 'cursor_reset reported');
    await within(nextEvent(client, 'synced', () => messages.length >= 5), 5000, 'synced with all five');
    assert.deepEqual(messages.map((m) => m.body), [1, 2, 3, 4, 5].map((i) => `after wipe ${i}`));
    assert.equal(client.lastSeq, 5);
    await server.stop();
  });

  test('after a reset to an older copy, messages already seen (same msgId) are dropped, new ones shown', async () => {
    const server = await new FakeServer().start();
    for (let i = 1; i <= 5; i += 1) server.store('alice', `before ${i}`);
    const client = makeClient(server, { minReconnectDelay: 10 });
    const messages = record(client, 'message');
    const first = nextEvent(client, 'synced');
    client.connect();
    await within(first, 5000, 'first sync');
    client.disconnect();
    // The server comes back from a copy holding the first two, then two new messages arrive.
    server.inbox('alice').splice(2);
    server.store('alice', 'new 1');
    server.store('alice', 'new 2');
    const second = nextEvent(client, 'synced', (s) => s.seq === 4);
    client.connect();
    await within(second, 5000, 'synced after the reset');
    assert.deepEqual(messages.map((m) => m.body), ['before 1', 'before 2', 'before 3', 'before 4', 'before 5', 'new 1', 'new 2']);
    await server.stop();
  });
});

describe('messages', () => {
  test('a back end\'s push is marked push: true, a user\'s message push: false', async () => {
    const server = await new FakeServer().start();
    server.store('alice', 'from the shop', 'shop', { push: true });
    server.store('alice', 'from a user called shop', 'shop');
    const client = makeClient(server);
    const messages = record(client, 'message');
    const synced = nextEvent(client, 'synced', () => messages.length >= 2);
    client.connect();
    await within(synced, 5000, 'synced with both');
    assert.deepEqual(messages.map((m) => [m.body, m.push]), [['from the shop', true], ['from a user called shop', false]]);
    await server.stop();
  });
});

describe('back-off', () => {
  test('after a restart (close 1012) clients spread their first retry over a wide window', async () => {
    const server = await new FakeServer().start();
    const n = 40;
    const firstDelays = [];
    const group = [];
    for (let i = 0; i < n; i += 1) {
      const c = makeClient(server, { user: `u${i}`, random: seededRandom(i + 1) });
      group.push(nextEvent(c, 'synced'));
      c.on('state', (s) => {
        if (s.state === 'reconnecting' && s.code === 1012 && firstDelays.length < n) {
          firstDelays.push(s.delay);
          c.disconnect();
        }
      });
      c.connect();
    }
    await within(Promise.all(group), 10_000, 'all synced');
    const done = new Promise((resolve) => {
      const timer = setInterval(() => {
        if (firstDelays.length === n) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    server.closeAll(1012, 'restart');
    await within(done, 10_000, 'all announced a delay');
    const sorted = [...firstDelays].sort((a, b) => a - b);
    let crowd = 0;
    for (let i = 0; i < n; i += 1) {
      let j = i;
      while (j < n && sorted[j] - sorted[i] < 500) j += 1;
      crowd = Math.max(crowd, j - i);
    }
    assert.ok(crowd <= n * 0.2, `${crowd} of ${n} clients retry within the same 500 ms: ${sorted}`);
    await server.stop();
  });

  test('a server that syncs and closes at once does not reset the back-off (minimum uptime)', async () => {
    const server = await new FakeServer({ hooks: { onSynced: (c) => c.close(1011, 'inbox unavailable') } }).start();
    const client = makeClient(server, { minReconnectDelay: 20, maxReconnectDelay: 5000, random: () => 0.5 });
    const delays = [];
    const six = new Promise((resolve) => client.on('state', (s) => {
      if (s.state === 'reconnecting') {
        delays.push(s.delay);
        if (delays.length === 6) {
          client.disconnect();
          resolve();
        }
      }
    }));
    client.connect();
    await within(six, 15_000, 'six reconnects');
    assert.ok(delays[5] >= 8 * delays[0], `the back-off did not grow: ${delays}`);
    await server.stop();
  });

  test('per-send retries are jittered: two sends refused together are not retried together', async () => {
    const refused = new Set();
    const arrivals = {};
    const server = await new FakeServer({
      hooks: {
        onSend: (f) => {
          (arrivals[f.id] ??= []).push(Date.now());
          if (!refused.has(f.id)) {
            refused.add(f.id);
            return { type: 'error', id: f.id, code: 'unavailable', message: 'store slow' };
          }
          return null;
        },
      },
    }).start();
    let calls = 0;
    const client = makeClient(server, { random: () => (calls++ % 2 === 0 ? 0.05 : 0.95), sendRetryDelay: 1000 });
    const a = client.send('bob', 'one', { id: 'j-1' });
    const b = client.send('bob', 'two', { id: 'j-2' });
    client.connect();
    await within(Promise.all([a, b]), 10_000, 'both accepted');
    const gap = Math.abs(arrivals['j-1'][1] - arrivals['j-2'][1]);
    assert.ok(gap >= 400, `retries ${gap} ms apart`);
    await server.stop();
  });
});

describe('lifecycle', () => {
  test('ready() resolves once the backlog is delivered, and at once when already synced', async () => {
    const server = await new FakeServer().start();
    server.store('alice', 'waiting');
    const client = makeClient(server);
    const messages = record(client, 'message');
    const ready = client.ready();
    client.connect();
    const synced = await within(ready, 5000, 'ready');
    assert.equal(synced.seq, 1);
    assert.equal(messages.length, 1);
    assert.equal((await within(client.ready(), 100, 'ready again')).seq, 1);
    await server.stop();
  });

  test('disconnect() then connect() again, same client: a send made in between goes out', async () => {
    const server = await new FakeServer().start();
    const client = makeClient(server);
    client.connect();
    await within(client.ready(), 5000, 'first connection');
    client.disconnect();
    assert.equal(client.state, 'closed');
    const sent = client.send('bob', 'while disconnected', { id: 'dc-1' });
    client.connect();
    assert.equal((await within(sent, 5000, 'accepted after connect()')).id, 'dc-1');
    await server.stop();
  });

  test('states follow the documented machine across a drop and a disconnect', async () => {
    const server = await new FakeServer().start();
    const client = makeClient(server, { minReconnectDelay: 10, maxReconnectDelay: 50 });
    const states = record(client, 'state');
    client.connect();
    await within(client.ready(), 5000, 'first sync');
    const again = nextEvent(client, 'synced');
    server.closeAll(1011, 'inbox unavailable');
    await within(again, 5000, 'second sync');
    client.disconnect();
    assert.deepEqual(states.map((s) => s.state), ['connecting', 'open', 'reconnecting', 'connecting', 'open', 'closed']);
    assert.deepEqual(states.map((s) => s.previous), ['closed', 'connecting', 'open', 'reconnecting', 'connecting', 'open']);
    await server.stop();
  });

  test('the WebSocket option is the constructor the client uses (so it runs in Node)', async () => {
    const server = await new FakeServer().start();
    let made = 0;
    class CountingWebSocket extends WebSocket {
      constructor(...args) {
        super(...args);
        made += 1;
      }
    }
    const client = makeClient(server, { WebSocket: CountingWebSocket });
    client.connect();
    await within(client.ready(), 5000, 'synced');
    assert.equal(made, 1);
    await server.stop();
  });
});
