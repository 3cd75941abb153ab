// The client in Node (the `ws` package as its WebSocket) against the real server jar: the
// refusals and limits the unit tests play with a fake gateway, as the real one answers them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { WebSocket } from 'ws';
import { SwitchboardClient } from '../../../webroot/js/switchboard.js';
import { Server, curlPush, tempDir } from './lib/harness.mjs';
import { MemoryStorage, nextEvent, record, within } from './unit/fake.mjs';

describe('the client in Node against the real server', () => {
  let tmp;
  let server;
  const clients = [];

  function makeClient(options) {
    const client = new SwitchboardClient({
      url: `${server.url.replace('http', 'ws')}/ws`, WebSocket, storage: new MemoryStorage(),
      minReconnectDelay: 50, maxReconnectDelay: 500, restartDelay: 500, sessionLimitDelay: 200, ...options,
    });
    clients.push(client);
    return client;
  }

  before(async () => {
    tmp = tempDir();
    server = await new Server({
      dir: tmp.dir,
      config: { limits: { maxSessionsPerUser: 1 }, gateway: { maxFrameBytes: 4096 } },
    }).start();
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.stop();
    tmp?.cleanup();
  });

  test('250 sends queued offline all arrive once, in order, under the default rate limit', async () => {
    const sender = makeClient({ user: 'rate-sender', device: 'n1' });
    const sends = [];
    for (let i = 0; i < 250; i += 1) sends.push(sender.send('rate-receiver', `r${i}`, { id: `rate-${i}` }));
    sender.connect();
    const settled = await within(Promise.allSettled(sends), 60_000, 'all settled');
    assert.deepEqual(settled.filter((s) => s.status === 'rejected').map((s) => s.reason.code), []);
    const receiver = makeClient({ user: 'rate-receiver', device: 'n2' });
    const messages = record(receiver, 'message');
    receiver.connect();
    await within(receiver.ready(), 30_000, 'receiver synced');
    assert.deepEqual(messages.map((m) => m.body), sends.map((_, i) => `r${i}`));
    receiver.disconnect();
    sender.disconnect();
  });

  test('a second session over the limit waits (too_many_sessions), keeps its send, and sends it once a session is free', async () => {
    const first = makeClient({ user: 'crowded', device: 'n1' });
    first.connect();
    await within(first.ready(), 10_000, 'first session');
    const second = makeClient({ user: 'crowded', device: 'n2' });
    const refused = nextEvent(second, 'error', (e) => e.code === 'too_many_sessions');
    const sent = second.send('crowded-peer', 'waited for a session', { id: 'crowded-1' });
    second.connect();
    await within(refused, 10_000, 'refused with too_many_sessions');
    assert.notEqual(second.state, 'closed');
    assert.deepEqual(second.pending.map((p) => p.id), ['crowded-1']);
    first.disconnect();
    assert.equal((await within(sent, 20_000, 'accepted once the first left')).id, 'crowded-1');
    second.disconnect();
  });

  test('a frame over the server\'s smaller limit settles its send with too_large; the next send goes', async () => {
    const client = makeClient({ user: 'big-sender', device: 'n1' });
    const big = client.send('big-peer', 'b'.repeat(5000), { id: 'big-1' });
    const next = client.send('big-peer', 'small', { id: 'small-1' });
    client.connect();
    const error = await within(big.then(() => null, (e) => e), 10_000, 'the big send settled');
    assert.equal(error?.code, 'too_large');
    await within(next, 10_000, 'the next send accepted');
    const later = await client.send('big-peer', 'c'.repeat(5000)).then(() => null, (e) => e);
    assert.equal(later?.code, 'too_large', 'the learned limit is checked in send()');
    client.disconnect();
  });

  /**
   * Five messages read, the data dir wiped and the server restarted, two more pushed (once the
   * client is back, with `pushWhenBack`): all seven must show, none skipped.
   */
  async function wipeAndPush(user, { pushWhenBack }) {
    for (let i = 1; i <= 5; i += 1) {
      assert.equal((await curlPush(server, { to: user, body: `before ${i}` })).status, 202);
    }
    const client = makeClient({ user, device: 'n1' });
    const messages = record(client, 'message');
    client.connect();
    await within(client.ready(), 10_000, 'first sync');
    assert.equal(client.lastSeq, 5);
    await server.kill();
    rmSync(server.dataDir, { recursive: true, force: true });
    // Awaited as messages, not as a sync: the client may reconnect before the two pushes and then
    // receive them live, after its sync; attached before the pushes, so none can come first.
    const allSeven = nextEvent(client, 'message', () => messages.length >= 7, 60_000);
    const back = pushWhenBack ? nextEvent(client, 'synced', () => true, 60_000) : null;
    await server.start();
    if (back) {
      await within(back, 60_000, 'reconnected to the wiped server');
    }
    for (let i = 1; i <= 2; i += 1) {
      assert.equal((await curlPush(server, { to: user, body: `after ${i}` })).status, 202);
    }
    await within(allSeven, 60_000, 'the new messages');
    assert.deepEqual(messages.map((m) => m.body), ['before 1', 'before 2', 'before 3', 'before 4', 'before 5', 'after 1', 'after 2']);
    client.disconnect();
  }

  test('after the server\'s data is wiped, new messages are not skipped (cursor_reset)',
    () => wipeAndPush('wiped', { pushWhenBack: false }));

  test('after the server\'s data is wiped, messages sent once the client is back are not skipped either',
    () => wipeAndPush('wiped-live', { pushWhenBack: true }));
});
