// What each refusal does to a queued send (issue defects 1, 2 and 4), against a fake gateway.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SwitchboardError } from '../../../../webroot/js/switchboard.js';
import { clientMaker, fakeJwt, FakeServer, jwtPayload, MemoryStorage, nextEvent, record, within } from './fake.mjs';

const makeClient = clientMaker({
  minReconnectDelay: 10, maxReconnectDelay: 100, restartDelay: 100, sessionLimitDelay: 50,
});

/** The queued sends a client keeps in `storage`, by id, whatever the record layout. */
function storedIds(storage) {
  const ids = [];
  for (const [key, value] of storage.map) {
    if (!key.includes(':outbox')) continue;
    const parsed = JSON.parse(value);
    for (const e of Array.isArray(parsed) ? parsed : [parsed]) ids.push(e.id);
  }
  return ids.sort();
}

describe('refusals of the connection (close 1008)', () => {
  test('too_many_sessions is a wait: the queued send stays stored, and goes out once a session is free', async () => {
    let refusals = 2;
    const server = await new FakeServer({
      hooks: {
        onConnect: () => (refusals-- > 0 ? { code: 'too_many_sessions', message: 'user alice already has 20 sessions' } : null),
      },
    }).start();
    const storage = new MemoryStorage();
    const client = makeClient(server, { storage });
    const errors = record(client, 'error');
    const sent = client.send('bob', 'hello', { id: 'q-1' });
    const waiting = nextEvent(client, 'state', (s) => s.state === 'reconnecting' && s.code === 1008);
    client.connect();
    await within(waiting, 5000, 'a wait after the refusal');
    assert.deepEqual(storedIds(storage), ['q-1'], 'still stored while refused');
    const accepted = await within(sent, 5000, 'the send accepted');
    assert.equal(accepted.id, 'q-1');
    assert.deepEqual(server.acceptedSends.map((s) => s.id), ['q-1']);
    assert.equal(server.connections.length, 3);
    assert.deepEqual(storedIds(storage), []);
    assert.ok(errors.every((e) => e.code === 'too_many_sessions'), 'told, as a wait');
    await server.stop();
  });

  test('invalid_token asks the token function for a fresh token and connects with it', async () => {
    const server = await new FakeServer({
      hooks: { onConnect: (c) => (jwtPayload(c.token).jti === 'stale' ? { code: 'invalid_token', message: 'token expired' } : null) },
    }).start();
    const tokens = [fakeJwt({ sub: 'alice', jti: 'stale' }), fakeJwt({ sub: 'alice', jti: 'fresh' })];
    let asked = 0;
    const client = makeClient(server, { token: () => tokens[Math.min(asked++, 1)] });
    const sent = client.send('bob', 'with a fresh token', { id: 't-1' });
    client.connect();
    await within(sent, 5000, 'the send accepted');
    assert.ok(asked >= 2);
    assert.deepEqual(server.connections.map((c) => jwtPayload(c.token).jti), ['stale', 'fresh']);
    await server.stop();
  });

  test('a refusal for the user id ends the connection but keeps queued sends stored', async () => {
    const server = await new FakeServer({
      hooks: { onConnect: () => ({ code: 'invalid_user', message: 'user is not allowed' }) },
    }).start();
    const storage = new MemoryStorage();
    const client = makeClient(server, { storage });
    const sent = client.send('bob', 'kept', { id: 'k-1' });
    const closed = nextEvent(client, 'state', (s) => s.state === 'closed');
    client.connect();
    const error = await within(sent.then(() => null, (e) => e), 5000, 'the send settled');
    assert.equal((await within(closed, 1000, 'closed')).code, 1008, 'the closed state says why');
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, 'refused');
    assert.equal(error.queued, true);
    assert.equal(client.state, 'closed');
    assert.deepEqual(storedIds(storage), ['k-1'], 'a refused connection is no reason to drop the send');
    await server.stop();
  });
});

describe('refusals of one send', () => {
  let server;
  before(async () => {
    server = await new FakeServer({
      hooks: {
        onSend: (f) => {
          if (f.body === 'full') return { type: 'error', id: f.id, code: 'inbox_full', message: 'full' };
          if (f.body === 'reused') return { type: 'error', id: f.id, code: 'id_reused', message: 'reused' };
          if (f.body === 'bad') return { type: 'error', id: f.id, code: 'invalid_field', message: 'bad' };
          return null;
        },
      },
    }).start();
  });
  after(() => server.stop());

  test('final refusals settle only their own send, with a typed error, and drop it from storage', async () => {
    const storage = new MemoryStorage();
    const client = makeClient(server, { storage });
    const bodies = ['first', 'full', 'reused', 'bad', 'last'];
    const sends = bodies.map((body, i) => client.send('bob', body, { id: `f-${i}` }));
    client.connect();
    const settled = await within(Promise.allSettled(sends), 5000, 'all settled');
    assert.deepEqual(settled.map((s) => (s.status === 'fulfilled' ? 'ok' : s.reason.code)),
      ['ok', 'inbox_full', 'id_reused', 'invalid_field', 'ok']);
    for (const s of settled.filter((x) => x.status === 'rejected')) {
      assert.ok(s.reason instanceof SwitchboardError);
      assert.ok(s.reason.id);
    }
    assert.deepEqual(storedIds(storage), []);
  });
});

describe('rate_limited', () => {
  test('250 sends queued offline reach a server with the default rate limit: none lost, in order', async () => {
    const server = await new FakeServer({ rate: 50, burst: 100 }).start();
    const client = makeClient(server);
    const sends = [];
    for (let i = 0; i < 250; i += 1) sends.push(client.send('bob', `m${i}`, { id: `r-${i}` }));
    client.connect();
    const settled = await within(Promise.allSettled(sends), 30_000, 'all settled');
    assert.deepEqual(settled.filter((s) => s.status === 'rejected').map((s) => s.reason.code), []);
    assert.deepEqual(server.acceptedSends.map((s) => s.body), sends.map((_, i) => `m${i}`));
    assert.equal(server.refusals.filter((r) => r.code === 'rate_limited').length, 0, 'paced below the server rate');
    await server.stop();
  });

  test('a server stricter than the client paces for: rate_limited sends wait and go again, once each', async () => {
    const server = await new FakeServer({ rate: 20, burst: 5 }).start();
    const client = makeClient(server);
    const sends = [];
    for (let i = 0; i < 40; i += 1) sends.push(client.send('bob', `s${i}`, { id: `x-${i}` }));
    client.connect();
    const settled = await within(Promise.allSettled(sends), 30_000, 'all settled');
    assert.deepEqual(settled.filter((s) => s.status === 'rejected').map((s) => s.reason.code), []);
    assert.ok(server.refusals.some((r) => r.code === 'rate_limited'), 'the server did refuse some');
    const ids = server.acceptedSends.map((s) => s.id);
    assert.equal(ids.length, 40);
    assert.equal(new Set(ids).size, 40, 'no doubles');
    await server.stop();
  });
});

describe('size and type of a send', () => {
  let server;
  before(async () => {
    server = await new FakeServer().start();
  });
  after(() => server.stop());

  test('a body over the limit in UTF-8 bytes is rejected at once and never queued; the next send goes', async () => {
    const storage = new MemoryStorage();
    const client = makeClient(server, { storage });
    // 33,000 characters, but 66,000 bytes of UTF-8: over the 65,536-byte limit.
    const big = client.send('bob', 'é'.repeat(33_000), { id: 'big' });
    const error = await within(big.then(() => null, (e) => e), 1000, 'rejected at once');
    assert.equal(error?.code, 'too_large');
    assert.deepEqual(client.pending, []);
    assert.deepEqual(storedIds(storage), []);
    const small = client.send('bob', 'small', { id: 'small' });
    client.connect();
    await within(small, 5000, 'the next send accepted');
    assert.deepEqual(server.acceptedSends.filter((s) => s.from === 'alice').map((s) => s.id), ['small']);
  });

  test('a body that fits but whose frame would not (escaped characters) is rejected at once', async () => {
    const client = makeClient(server, { maxFrameBytes: 1000 });
    const p = client.send('bob', '\u0001'.repeat(400), { id: 'esc' }); // 400 bytes, 2,400 once JSON-escaped
    const error = await within(p.then(() => null, (e) => e), 1000, 'rejected at once');
    assert.equal(error?.code, 'too_large');
  });

  test('a body that is not a string is rejected at once', async () => {
    const client = makeClient(server);
    const error = await within(client.send('bob', { text: 'hi' }).then(() => null, (e) => e), 1000, 'rejected');
    assert.equal(error?.code, 'invalid_field');
    assert.deepEqual(client.pending, []);
  });

  const oversizeAnswers = [
    ['close', 'a 1009 close naming a smaller frame limit settles the oversized send instead of poisoning the queue'],
    ['close-unnamed', 'a 1009 close naming no limit settles the largest send in flight; the next send goes'],
    ['error', 'an id-less too_large from a server with a smaller frame limit settles the send instead of poisoning the queue'],
  ];
  for (const [oversize, title] of oversizeAnswers) {
    test(title, async () => {
      const strict = await new FakeServer({ maxFrameBytes: 2000, oversize }).start();
      const storage = new MemoryStorage();
      const client = makeClient(strict, { storage });
      const big = client.send('bob', 'y'.repeat(3000), { id: 'over' });
      const next = client.send('bob', 'after', { id: 'after' });
      client.connect();
      const error = await within(big.then(() => null, (e) => e), 5000, 'the oversized send settled');
      assert.equal(error?.code, 'too_large');
      await within(next, 5000, 'the next one accepted');
      assert.deepEqual(storedIds(storage), []);
      await strict.stop();
    });
  }

  test('an oversized send restored from storage is dropped with an error, not re-sent forever', async () => {
    const storage = new MemoryStorage();
    storage.setItem('switchboard:outbox:alice:d1', JSON.stringify([
      { id: 'old-big', to: 'bob', body: 'z'.repeat(70_000), createdAt: Date.now() },
      { id: 'old-ok', to: 'bob', body: 'fine', createdAt: Date.now() },
    ]));
    const client = makeClient(server, { storage });
    const errors = record(client, 'error');
    const accepted = nextEvent(client, 'accepted', (a) => a.id === 'old-ok');
    client.connect();
    await within(accepted, 5000, 'the restored send that fits');
    assert.ok(errors.some((e) => e.id === 'old-big' && e.code === 'too_large'));
    assert.ok(!server.connections.some((c) => c.frames.some((f) => f.id === 'old-big')), 'never sent');
    assert.deepEqual(storedIds(storage), []);
  });
});
