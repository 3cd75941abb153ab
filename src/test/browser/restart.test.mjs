// A server crash (SIGKILL) and restart on the same port and data dir while both chat pages
// stay open: the pages reconnect by themselves; nothing is lost or doubled. Then a room whose
// server is stopped and started again: a member away meanwhile gets what the room said, in order.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newPerson, serverAndBrowser } from './lib/harness.mjs';
import { expectThread, openChat, openConversation, thread, type, view, waitForState } from './lib/chat.mjs';

/**
 * Waits until the open room thread holds exactly the messages of `pairs` (as `me` sees them), each
 * once, with the received ones in increasing roomSeq; returns the thread in its shown order. Sends
 * queued across a restart may be stored in another order than typed (a send the starting server
 * answers `overloaded` is retried after a later one): the room's order is its roomSeq.
 */
async function expectRoomThread(page, me, pairs) {
  const key = (m) => `${m.from}|${m.body}|${m.status}`;
  const expected = view(me, pairs).map(key).sort();
  let shown;
  await eventually(async () => {
    shown = await thread(page);
    assert.deepEqual(shown.map(key).sort(), expected);
    const seqs = await page.$$eval('#messages .msg.received', (nodes) => nodes.map((n) => Number(n.dataset.roomSeq)));
    for (let i = 1; i < seqs.length; i += 1) {
      assert.ok(seqs[i] > seqs[i - 1], `roomSeq order: ${seqs.join(', ')}`);
    }
  }, { timeout: 20_000, message: 'room thread' });
  await expectThread(page, shown); // and it stays so: no late doubles
  return shown;
}

describe('server crash and restart', () => {
  const fx = serverAndBrowser();

  test('open pages reconnect after kill -9 and a restart, and lose or double nothing', async () => {
    const alice = await newPerson(fx.browser);
    const bob = await newPerson(fx.browser);
    const a = await openChat(alice.context, fx.server, 'alice', 'bob');
    const b = await openChat(bob.context, fx.server, 'bob', 'alice');
    const said = [];

    await type(a, 'Deploying the new version now.');
    said.push(['alice', 'Deploying the new version now.']);
    await expectThread(b, view('bob', said));
    await type(b, 'OK, watching the graphs.');
    said.push(['bob', 'OK, watching the graphs.']);
    await expectThread(a, view('alice', said));

    // A burst the server has stored ("sent") but may not have delivered yet when it dies.
    for (let i = 1; i <= 3; i += 1) {
      await type(a, `Step ${i} of 3 done`);
      said.push(['alice', `Step ${i} of 3 done`]);
    }
    await expectThread(a, view('alice', said), { timeout: 20_000 });
    const port = fx.server.gatewayPort;
    await fx.server.kill();

    await waitForState(a, 'reconnecting');
    await waitForState(b, 'reconnecting');
    // Typed while the server is down: shown as pending, sent after the restart.
    await type(a, 'Is the fx.server down?');
    await type(b, 'It went away for a moment.');
    assert.deepEqual((await thread(a)).at(-1), { from: 'You', body: 'Is the fx.server down?', status: 'pending' });
    assert.deepEqual((await thread(b)).at(-1), { from: 'You', body: 'It went away for a moment.', status: 'pending' });

    await fx.server.start();
    assert.equal(fx.server.gatewayPort, port);
    await waitForState(a, 'open', 60_000);
    await waitForState(b, 'open', 60_000);

    // Each page shows its own pending message first, then the other's as it arrives.
    const aliceView = [...view('alice', said), { from: 'You', body: 'Is the fx.server down?', status: 'sent' },
      { from: 'bob', body: 'It went away for a moment.', status: 'received' }];
    const bobView = [...view('bob', said), { from: 'You', body: 'It went away for a moment.', status: 'sent' },
      { from: 'alice', body: 'Is the fx.server down?', status: 'received' }];
    await expectThread(a, aliceView);
    await expectThread(b, bobView);

    // Live again, both ways.
    await type(b, 'Back up, all good.');
    bobView.push({ from: 'You', body: 'Back up, all good.', status: 'sent' });
    aliceView.push({ from: 'bob', body: 'Back up, all good.', status: 'received' });
    await expectThread(a, aliceView);
    await type(a, 'Thanks!');
    aliceView.push({ from: 'You', body: 'Thanks!', status: 'sent' });
    bobView.push({ from: 'alice', body: 'Thanks!', status: 'received' });
    await expectThread(b, bobView);
    await expectThread(a, aliceView);

    // And a reload after all that brings nothing twice.
    await a.reload();
    await b.reload();
    await waitForState(a, 'open');
    await waitForState(b, 'open');
    await expectThread(a, aliceView);
    await expectThread(b, bobView);
    assert.deepEqual([...alice.problems, ...bob.problems], []);
  });

  test('a room member whose server was stopped and started again gets what the room said meanwhile, in roomSeq order, once, and writes again', async () => {
    const dan = await newPerson(fx.browser);
    const eve = await newPerson(fx.browser);
    const fay = await newPerson(fx.browser);
    const d = await openChat(dan.context, fx.server, 'dan', 'eve');
    const e = await openChat(eve.context, fx.server, 'eve', 'dan');
    let f = await openChat(fay.context, fx.server, 'fay', 'dan');
    await d.fill('#room', 'ops');
    await d.press('#room', 'Enter');
    await eventually(async () => assert.equal(await d.textContent('#peer-name'), '# ops'), { message: 'room opened' });
    for (const member of ['eve', 'fay']) {
      await d.fill('#member', member);
      await d.press('#member', 'Enter');
    }
    await openConversation(e, '# ops');
    await openConversation(f, '# ops');
    const said = [['dan', 'Restarting the server in a minute.']];
    await type(d, said[0][1]);
    await expectThread(e, view('eve', said));
    await expectThread(f, view('fay', said));

    await fx.server.stop(); // a clean stop (SIGTERM): the pages are told 1012 and reconnect later
    await waitForState(d, 'reconnecting');
    await waitForState(e, 'reconnecting');
    await f.close(); // fay is away while the room goes on
    for (const body of ['Server is down now.', 'Queued while it is down.']) {
      await type(d, body);
      said.push(['dan', body]);
    }
    await fx.server.start();
    await waitForState(d, 'open', 60_000);
    await waitForState(e, 'open', 60_000);
    const atEve = await expectRoomThread(e, 'eve', said);
    await type(e, 'Back, and I see both.');
    said.push(['eve', 'Back, and I see both.']);
    await expectRoomThread(d, 'dan', said);

    // Fay comes back: the room as eve saw it (its roomSeq order), then eve's message, each once.
    f = await openChat(fay.context, fx.server, 'fay', 'dan');
    await openConversation(f, '# ops');
    const asSeen = [...atEve, { from: 'eve', body: 'Back, and I see both.', status: 'received' }];
    assert.deepEqual(await expectRoomThread(f, 'fay', said), asSeen);
    await type(f, 'Fay here, all caught up.');
    said.push(['fay', 'Fay here, all caught up.']);
    asSeen.push({ from: 'You', body: 'Fay here, all caught up.', status: 'sent' });
    await expectRoomThread(d, 'dan', said);
    await expectRoomThread(e, 'eve', said);
    await expectThread(f, asSeen);
    await f.reload();
    await waitForState(f, 'open');
    await openConversation(f, '# ops');
    await expectThread(f, asSeen);
    assert.deepEqual([...dan.problems, ...eve.problems, ...fay.problems], []);
    await dan.context.close();
    await eve.context.close();
    await fay.context.close();
  });
});
