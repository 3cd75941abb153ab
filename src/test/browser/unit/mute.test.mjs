// mute() and muted() in the client, against the fake gateway: a mute made offline is written once
// a connection opens and resolves with the `muted` answer; a query reads the setting back; a final
// refusal rejects, a rate_limited or unavailable one is tried again; a mute whose connection drops
// before the answer is written again on the next one; two mutes of one peer go one at a time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientMaker, FakeServer, within } from './fake.mjs';

const make = clientMaker({ minReconnectDelay: 20, maxReconnectDelay: 100, restartDelay: 50, sendRetryDelay: 20 });

test('a mute made offline resolves with the muted answer once connected, and muted() reads the setting back', async () => {
  const server = await new FakeServer().start();
  const alice = make(server);
  const room = alice.mute({ room: 'team' });
  const peer = alice.mute({ peer: 'bob' }, true);
  const opened = server.nextConnection();
  alice.connect();
  const conn = await opened;
  assert.deepEqual(await within(room, 5000, 'room mute'), { room: 'team', muted: true });
  assert.deepEqual(await within(peer, 5000, 'peer mute'), { peer: 'bob', muted: true });
  const frame = conn.frames.find((f) => f.type === 'mute' && f.room === 'team');
  assert.equal(typeof frame.id, 'string');
  assert.deepEqual({ ...frame, id: 'x', _taken: undefined }, { type: 'mute', id: 'x', room: 'team', muted: true, _taken: undefined });
  assert.deepEqual(await within(alice.mute({ peer: 'bob' }, false), 5000, 'unmute'), { peer: 'bob', muted: false });
  assert.deepEqual(await within(alice.muted({ room: 'team' }), 5000, 'query room'), { room: 'team', muted: true });
  assert.deepEqual(await within(alice.muted({ peer: 'bob' }), 5000, 'query peer'), { peer: 'bob', muted: false });
  assert.deepEqual(await within(alice.muted(), 5000, 'query everyone'), { muted: false });
  assert.equal(conn.frames.filter((f) => f.type === 'muted').length, 3);
  await server.stop();
});

test('arguments are checked at once: a peer and a room, a bad id, a muted flag that is not a boolean', async () => {
  const alice = make(null, { url: 'ws://127.0.0.1:9/ws' });
  await assert.rejects(alice.mute({ peer: 'bob', room: 'team' }), (e) => e.code === 'invalid_field');
  await assert.rejects(alice.mute({ peer: 'b b' }), (e) => e.code === 'invalid_user');
  await assert.rejects(alice.muted({ room: 'a|b' }), (e) => e.code === 'invalid_field');
  await assert.rejects(alice.mute({ peer: 'bob' }, 'yes'), (e) => e.code === 'invalid_field');
});

test('a final refusal rejects with its code; rate_limited and unavailable are tried again with the same id', async () => {
  const refusals = new Map([['carol', ['rate_limited', 'unavailable']], ['dave', ['invalid_user']]]);
  const server = await new FakeServer({
    hooks: {
      onMute: (frame, conn) => {
        const left = refusals.get(frame.peer);
        const code = left?.shift();
        if (code) conn.error(code, `refused: ${code}`, frame.id);
        return code ? false : undefined;
      },
    },
  }).start();
  const alice = make(server);
  const opened = server.nextConnection();
  alice.connect();
  const conn = await opened;
  const carol = alice.mute({ peer: 'carol' });
  const dave = alice.mute({ peer: 'dave' });
  await assert.rejects(within(dave, 5000, 'dave refused'), (e) => e.code === 'invalid_user');
  assert.deepEqual(await within(carol, 5000, 'carol after two retries'), { peer: 'carol', muted: true });
  const ids = conn.frames.filter((f) => f.type === 'mute' && f.peer === 'carol').map((f) => f.id);
  assert.equal(ids.length, 3);
  assert.equal(new Set(ids).size, 1);
  await server.stop();
});

test('a mute whose connection drops before the answer is written again on the next connection and resolves once', async () => {
  let dropped = false;
  const server = await new FakeServer({
    hooks: {
      onMute: (frame, conn) => {
        if (dropped) return undefined;
        dropped = true;
        conn.close(1012, 'restart');
        return false;
      },
    },
  }).start();
  const alice = make(server);
  const first = server.nextConnection();
  alice.connect();
  await first;
  await alice.ready();
  const second = server.nextConnection();
  const muted = alice.mute({ room: 'team' });
  const conn = await within(second, 5000, 'reconnect');
  assert.deepEqual(await within(muted, 5000, 'mute after the reconnect'), { room: 'team', muted: true });
  assert.equal(conn.frames.filter((f) => f.type === 'mute').length, 1);
  await server.stop();
});

test('two mutes of one peer go one at a time, in order; close() rejects what was not answered with closed', async () => {
  let holdFirst = true;
  const server = await new FakeServer({
    hooks: {
      onMute: (frame) => {
        if (frame.peer === 'erin') return false; // never answered
        if (frame.peer === 'bob' && holdFirst) {
          holdFirst = false;
          return false; // answered below, by hand
        }
        return undefined;
      },
    },
  }).start();
  const alice = make(server);
  const opened = server.nextConnection();
  alice.connect();
  const conn = await opened;
  await alice.ready();
  const on = alice.mute({ peer: 'bob' }, true);
  const off = alice.mute({ peer: 'bob' }, false);
  const erin = alice.mute({ peer: 'erin' });
  // Written after both of bob's, had they gone together: the unmute waits for the mute's answer.
  await within(conn.next((f) => f.type === 'mute' && f.peer === 'erin'), 5000, "erin's mute written");
  const first = conn.frames.filter((f) => f.peer === 'bob');
  assert.deepEqual(first.map((f) => f.muted), [true]);
  conn.send({ type: 'muted', id: first[0].id, peer: 'bob', muted: true });
  assert.deepEqual(await within(on, 5000, 'the mute'), { peer: 'bob', muted: true });
  assert.deepEqual(await within(off, 5000, 'the unmute'), { peer: 'bob', muted: false });
  assert.deepEqual(conn.frames.filter((f) => f.peer === 'bob').map((f) => f.muted), [true, false]);
  alice.close();
  await assert.rejects(erin, (e) => e.code === 'closed');
  await server.stop();
});
