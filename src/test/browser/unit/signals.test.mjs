// Signals and read receipts in the client, against the fake gateway: signal() goes out only on an
// open connection and is delivered as a 'signal' event; markRead() is kept until a connection
// opens (the newest per peer) and never repeated; a receipt is a 'read' event that takes its seq;
// send() with {receipt: true} carries the flag, and a delivered receipt is a 'delivered' event.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientMaker, FakeServer, MemoryStorage, nextEvent, record, within } from './fake.mjs';

const make = clientMaker();
const makeClient = (server, user, options = {}) => make(server, { user, ...options });

test('signal() is dropped (false) while closed, checked for size, and reaches the peer as a signal event', async () => {
  const server = await new FakeServer().start();
  const alice = makeClient(server, 'alice', { maxSignalBytes: 40 });
  const bob = makeClient(server, 'bob');
  assert.equal(alice.signal('bob', 'typing'), false);
  assert.throws(() => alice.signal('bob', 'typing', { text: 'x'.repeat(40) }), (e) => e.code === 'too_large');
  assert.throws(() => alice.signal('bob', 'has space'), TypeError);
  assert.throws(() => alice.signal('bob', 'typing', [1]), TypeError);
  await Promise.all([alice.connect().ready(), bob.connect().ready()]);
  const signal = nextEvent(bob, 'signal');
  assert.equal(alice.signal('bob', 'typing', { state: 'on' }), true);
  assert.deepEqual(await within(signal, 5000, 'signal at bob'), { from: 'alice', kind: 'typing', data: { state: 'on' } });
  await server.stop();
});

test('a signal the server refuses as too large is an error event and leaves the frame limit of sends alone', async () => {
  const server = await new FakeServer({ maxSignalBytes: 16 }).start();
  const alice = makeClient(server, 'alice');
  await alice.connect().ready();
  const refused = nextEvent(alice, 'error', (e) => e.code === 'too_large');
  assert.equal(alice.signal('bob', 'typing', { text: 'x'.repeat(50) }), true);
  const error = await within(refused, 5000, 'too_large error');
  assert.equal(error.id, undefined);
  const accepted = await within(alice.send('bob', 'y'.repeat(2000)), 5000, 'a 2000-byte send accepted');
  assert.equal(accepted.body.length, 2000);
  await server.stop();
});

test('markRead() while closed is sent when the connection opens, newest per peer, and a repeat sends nothing', async () => {
  const server = await new FakeServer().start();
  const alice = makeClient(server, 'alice');
  alice.markRead('bob', 'm-1');
  alice.markRead('bob', 'm-2');
  alice.markRead('carol', 'm-9');
  const opened = server.nextConnection();
  alice.connect();
  const conn = await opened;
  await alice.ready();
  alice.markRead('bob', 'm-2');
  alice.markRead('bob', 'm-3');
  await within(conn.next((f) => f.type === 'read' && f.upTo === 'm-3'), 5000, 'the read of m-3');
  const reads = conn.frames.filter((f) => f.type === 'read').map(({ peer, upTo }) => ({ peer, upTo }));
  assert.deepEqual(reads, [{ peer: 'bob', upTo: 'm-2' }, { peer: 'carol', upTo: 'm-9' }, { peer: 'bob', upTo: 'm-3' }]);
  await server.stop();
});

test('a receipt is a read event, not a message, takes its seq and is not shown again after a reconnect', async () => {
  const server = await new FakeServer().start();
  const storage = new MemoryStorage();
  const bob = makeClient(server, 'bob', { storage, ackDelay: 10 });
  const messages = record(bob, 'message');
  const reads = record(bob, 'read');
  server.store('bob', 'hi bob', 'alice');
  server.store('bob', undefined, undefined, { type: 'read', by: 'alice', upTo: 'm-0' });
  await bob.connect().ready();
  assert.deepEqual(messages.map((m) => m.body), ['hi bob']);
  assert.equal(reads.length, 1);
  assert.equal(reads[0].by, 'alice');
  assert.equal(reads[0].upTo, 'm-0');
  assert.equal(reads[0].seq, 2);
  assert.equal(bob.lastSeq, 2);
  bob.close();
  const again = makeClient(server, 'bob', { storage });
  const readsAgain = record(again, 'read');
  await again.connect().ready();
  assert.equal(readsAgain.length, 0);
  await server.stop();
});

test('send() with receipt puts the flag on the wire and in the outbox, and a delivered frame is a delivered event that takes its seq', async () => {
  const server = await new FakeServer().start();
  const storage = new MemoryStorage();
  const alice = makeClient(server, 'alice', { storage, ackDelay: 10 });
  const delivered = record(alice, 'delivered');
  const messages = record(alice, 'message');
  const asked = alice.send('bob', 'did it arrive?', { id: 'c-1', receipt: true });
  alice.send('bob', 'plain', { id: 'c-2' });
  assert.deepEqual(alice.pending.map((p) => p.receipt), [true, undefined]);
  const opened = server.nextConnection();
  alice.connect();
  const conn = await opened;
  await within(asked, 5000, 'the send with a receipt accepted');
  await within(conn.next((f) => f.type === 'send' && f.id === 'c-2'), 5000, 'the plain send');
  const sends = conn.frames.filter((f) => f.type === 'send').map(({ id, receipt }) => ({ id, receipt }));
  assert.deepEqual(sends, [{ id: 'c-1', receipt: true }, { id: 'c-2', receipt: undefined }]);
  const event = nextEvent(alice, 'delivered');
  server.store('alice', undefined, undefined, { type: 'delivered', by: 'bob', upTo: 'm-0' });
  await within(event, 5000, 'the delivered event');
  assert.equal(delivered.length, 1);
  assert.equal(messages.length, 0);
  assert.equal(delivered[0].by, 'bob');
  assert.equal(delivered[0].upTo, 'm-0');
  assert.equal(delivered[0].seq, 1);
  await server.stop();
});
