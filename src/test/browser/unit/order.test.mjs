// Sends to one peer or room are written again in the order they were made after the server refuses
// them with a retryable code, as the gateway needs: it refuses every later send of the session to
// the conversation until the refused one comes again (docs/protocol.md, "Order of sends").

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientMaker, FakeServer, within } from './fake.mjs';

const makeClient = clientMaker();

/** The conversation of a send frame: its room, or its peer. */
function conversation(frame) {
  return frame.room != null ? `room:${frame.room}` : `peer:${frame.to}`;
}

/**
 * A fake gateway with the gateway's rule: the first send of each id in `refuse` is refused with
 * its code, and from then on every other send of the conversation is refused the same way until
 * that id comes again. Every send frame is logged as `${id}:${answer}`.
 */
function goBackN(refuse) {
  const log = [];
  const refusedOnce = new Set();
  const waitingFor = new Map(); // conversation -> {id, code}
  const server = new FakeServer({
    hooks: {
      onSend: (f) => {
        const key = conversation(f);
        const wait = waitingFor.get(key);
        if (wait && wait.id !== f.id) {
          log.push(`${f.id}:${wait.code}`);
          return { type: 'error', id: f.id, code: wait.code, message: `waiting for ${wait.id}` };
        }
        waitingFor.delete(key);
        if (refuse.has(f.id) && !refusedOnce.has(f.id)) {
          refusedOnce.add(f.id);
          waitingFor.set(key, { id: f.id, code: refuse.get(f.id) });
          log.push(`${f.id}:${refuse.get(f.id)}`);
          return { type: 'error', id: f.id, code: refuse.get(f.id), message: 'refused once' };
        }
        log.push(`${f.id}:ok`);
        return null;
      },
    },
  });
  return { server, log };
}

describe('order of sends to one conversation', () => {
  test('a send refused unavailable is written again before the later ones to the same peer, which wait for it; another peer does not wait', async () => {
    const { server, log } = goBackN(new Map([['a', 'unavailable']]));
    await server.start();
    // The earlier send draws the longest wait and the later one the shortest: still the earlier goes first.
    let calls = 0;
    const client = makeClient(server, { random: () => (calls++ === 0 ? 0.95 : 0.05), sendRetryDelay: 400 });
    const sent = [client.send('bob', 'A', { id: 'a' }), client.send('carol', 'C', { id: 'c' }), client.send('bob', 'B', { id: 'b' })];
    client.connect();
    await within(Promise.all(sent), 10_000, 'all accepted');
    assert.deepEqual(server.acceptedSends.filter((s) => s.to === 'bob').map((s) => s.body), ['A', 'B']);
    assert.deepEqual(log, ['a:unavailable', 'c:ok', 'b:unavailable', 'a:ok', 'b:ok']);
    await server.stop();
  });

  test('room sends refused overloaded are written again in the order made', async () => {
    const { server, log } = goBackN(new Map([['r1', 'overloaded']]));
    await server.start();
    let calls = 0;
    const client = makeClient(server, { random: () => (calls++ === 0 ? 0.95 : 0.05), sendRetryDelay: 400 });
    const sent = ['r1', 'r2', 'r3'].map((id) => client.sendToRoom('team', id.toUpperCase(), { id }));
    client.connect();
    await within(Promise.all(sent), 10_000, 'all accepted');
    assert.deepEqual(log, ['r1:overloaded', 'r2:overloaded', 'r3:overloaded', 'r1:ok', 'r2:ok', 'r3:ok']);
    await server.stop();
  });

  test('a send refused rate_limited goes again before the later ones to the same peer', async () => {
    const { server, log } = goBackN(new Map([['a', 'rate_limited']]));
    await server.start();
    const client = makeClient(server);
    const sent = [client.send('bob', 'A', { id: 'a' }), client.send('bob', 'B', { id: 'b' })];
    client.connect();
    await within(Promise.all(sent), 10_000, 'both accepted');
    assert.deepEqual(log, ['a:rate_limited', 'b:rate_limited', 'a:ok', 'b:ok']);
    await server.stop();
  });
});
