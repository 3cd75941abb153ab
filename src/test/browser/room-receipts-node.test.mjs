// Room receipts in the client, in Node against the real server jar: sendToRoom() with
// {receipt: true} yields one 'delivered' event (with room) per other member, readRoom() reaches the
// other members as a 'read' event with room (also one offline at the time), and a room above
// limits.roomReceiptMembers refuses both with room_too_big.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { SwitchboardClient } from '../../../webroot/js/switchboard.js';
import { Server, tempDir } from './lib/harness.mjs';
import { MemoryStorage, nextEvent, record, within } from './unit/fake.mjs';

describe('room receipts through the client against the real server', () => {
  let tmp;
  let server;
  const clients = [];

  function makeClient(user, options = {}) {
    const client = new SwitchboardClient({
      url: `${server.url.replace('http', 'ws')}/ws`, WebSocket, storage: new MemoryStorage(), user, device: 'node',
      minReconnectDelay: 50, maxReconnectDelay: 500, ...options,
    });
    clients.push(client);
    return client;
  }

  async function online(user) {
    const client = makeClient(user);
    client.connect();
    await within(client.ready(), 10_000, `${user} synced`);
    return client;
  }

  /** Events of `type` until there are `n`; resolves with them. */
  function collect(client, type, n) {
    const seen = [];
    return new Promise((resolve) => {
      const off = client.on(type, (detail) => {
        seen.push(detail);
        if (seen.length === n) {
          off();
          resolve(seen);
        }
      });
    });
  }

  before(async () => {
    tmp = tempDir();
    server = await new Server({ dir: tmp.dir, config: { limits: { roomReceiptMembers: 3 } } }).start();
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.stop();
    tmp?.cleanup();
  });

  test('delivered from each other member, with room; read from one member reaches the others, live and later', async () => {
    const alice = await online('ra-alice');
    const bob = await online('ra-bob');
    await alice.createRoom('ra-team');
    await alice.addMember('ra-team', 'ra-bob');
    await alice.addMember('ra-team', 'ra-carol'); // offline until the end

    const delivered = collect(alice, 'delivered', 1);
    const atBob = nextEvent(bob, 'message', (m) => m.room === 'ra-team');
    const accepted = await within(alice.sendToRoom('ra-team', 'did it arrive?', { receipt: true }), 10_000, 'accepted');
    assert.ok(accepted.msgId.endsWith('.r'), accepted.msgId);
    await within(atBob, 10_000, 'bob got the message');
    const [fromBob] = await within(delivered, 10_000, 'a delivered event from bob');
    assert.deepEqual({ by: fromBob.by, room: fromBob.room, upTo: fromBob.upTo },
      { by: 'ra-bob', room: 'ra-team', upTo: accepted.msgId });

    const read = nextEvent(alice, 'read');
    bob.readRoom('ra-team', accepted.msgId);
    const atAlice = await within(read, 10_000, 'alice told of bob\'s read');
    assert.deepEqual({ by: atAlice.by, room: atAlice.room, upTo: atAlice.upTo },
      { by: 'ra-bob', room: 'ra-team', upTo: accepted.msgId });

    // carol connects later: the message, then bob's read, from her inbox; her device's ack gives alice
    // a second delivered receipt.
    const carol = makeClient('ra-carol');
    const carolReads = record(carol, 'read');
    const secondDelivered = collect(alice, 'delivered', 1);
    carol.connect();
    await within(carol.ready(), 10_000, 'carol synced');
    assert.deepEqual(carolReads.map((r) => [r.by, r.room, r.upTo]), [['ra-bob', 'ra-team', accepted.msgId]]);
    const [fromCarol] = await within(secondDelivered, 10_000, 'a delivered event from carol');
    assert.deepEqual([fromCarol.by, fromCarol.room], ['ra-carol', 'ra-team']);
  });

  test('above limits.roomReceiptMembers a send with receipt rejects room_too_big, a read is an error event', async () => {
    const owner = await online('rb-owner');
    await owner.createRoom('rb-big');
    for (const member of ['rb-1', 'rb-2', 'rb-3']) await owner.addMember('rb-big', member);
    const refused = await owner.sendToRoom('rb-big', 'too many', { receipt: true }).then(() => null, (e) => e);
    assert.equal(refused?.code, 'room_too_big');
    const plain = await within(owner.sendToRoom('rb-big', 'no receipt'), 10_000, 'a plain send accepted');
    const error = nextEvent(owner, 'error', (e) => e.code === 'room_too_big');
    owner.readRoom('rb-big', plain.msgId);
    const refusedRead = await within(error, 10_000, 'the read refused');
    assert.equal(refusedRead.id, undefined);
    assert.match(refusedRead.message, /limits\.roomReceiptMembers/);
  });
});
