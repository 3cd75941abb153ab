// Typing indicator, delivered and read ticks on the chat page (webroot/index.html): two people, two
// browser contexts, one real server.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newPerson, screenshot, serverAndBrowser } from './lib/harness.mjs';
import { expectThread, openChat, type, view, waitForState } from './lib/chat.mjs';

/** The `read` flag of each of my own messages in the open thread, oldest first. */
function ticks(page) {
  return page.$$eval('#messages .msg.out', (nodes) => nodes.map((n) => n.dataset.read === 'true'));
}

/** The tick of each of my own messages in the open thread, oldest first: 'sent', 'delivered' or 'read'. */
function tickStates(page) {
  return page.$$eval('#messages .msg.out', (nodes) => nodes.map((n) => {
    if (n.dataset.read === 'true') return 'read';
    return n.dataset.delivered === 'true' ? 'delivered' : 'sent';
  }));
}

describe('chat page: typing and read receipts', () => {
  const fx = serverAndBrowser();

  test('the peer sees "is typing…" while one types, and it goes after the message is sent', async () => {
    const alice = await newPerson(fx.browser);
    const bob = await newPerson(fx.browser);
    const a = await openChat(alice.context, fx.server, 'alice', 'bob');
    const b = await openChat(bob.context, fx.server, 'bob', 'alice');
    await a.fill('#text', 'Hi B');
    await a.type('#text', 'ob');
    await eventually(async () => assert.equal(await b.textContent('#typing'), 'alice is typing…'),
      { message: 'typing indicator at bob' });
    await screenshot(b, 'chat-typing');
    await a.press('#text', 'Enter');
    await expectThread(b, view('bob', [['alice', 'Hi Bob']]));
    await eventually(async () => assert.equal(await b.isHidden('#typing'), true),
      { message: 'typing indicator gone once the message came' });
    assert.deepEqual([...alice.problems, ...bob.problems], []);
    await alice.context.close();
    await bob.context.close();
  });

  test('read ticks appear once the peer reads, also when the receipt comes after a reconnect and a reload', async () => {
    const carol = await newPerson(fx.browser);
    const dave = await newPerson(fx.browser);
    let c = await openChat(carol.context, fx.server, 'carol', 'dave');
    const said = [['carol', 'Are you there?'], ['carol', 'Call me when you read this.']];
    for (const [, body] of said) await type(c, body);
    await expectThread(c, view('carol', said));
    assert.deepEqual(await ticks(c), [false, false]);
    await c.close(); // carol goes offline: dave's receipt must wait in her inbox

    const d = await openChat(dave.context, fx.server, 'dave', 'carol');
    await expectThread(d, view('dave', said)); // dave sees them in the open conversation: read

    c = await openChat(carol.context, fx.server, 'carol', 'dave');
    await eventually(async () => assert.deepEqual(await ticks(c), [true, true]), { message: 'ticks after reconnect' });
    await c.reload();
    await eventually(async () => assert.deepEqual(await ticks(c), [true, true]), { message: 'ticks after reload' });

    // A newer message is unread until dave's open page reads it, then ticked as well.
    said.push(['carol', 'Thanks!']);
    await type(c, 'Thanks!');
    await expectThread(d, view('dave', said));
    await eventually(async () => assert.deepEqual(await ticks(c), [true, true, true]), { message: 'tick of a live read' });
    await screenshot(c, 'chat-read');
    assert.deepEqual([...carol.problems, ...dave.problems], []);
    await carol.context.close();
    await dave.context.close();
  });

  test('one tick once stored, two once a device of the peer has it, read once the peer reads it', async () => {
    const erin = await newPerson(fx.browser);
    const frank = await newPerson(fx.browser);
    const e = await openChat(erin.context, fx.server, 'erin', 'frank');
    await type(e, 'Ping');
    await expectThread(e, view('erin', [['erin', 'Ping']]));
    assert.deepEqual(await tickStates(e), ['sent']); // frank is offline: stored, not delivered

    // Frank's page is open on another conversation: his device gets (and acks) the message unread.
    let f = await openChat(frank.context, fx.server, 'frank', 'gina');
    await eventually(async () => assert.deepEqual(await tickStates(e), ['delivered']), { message: 'delivered tick' });
    assert.equal(await e.textContent('#messages .msg.out .state'), '✓✓ delivered');
    await screenshot(e, 'chat-delivered');

    await f.close();
    f = await openChat(frank.context, fx.server, 'frank', 'erin');
    await expectThread(f, view('frank', [['erin', 'Ping']]));
    await eventually(async () => assert.deepEqual(await tickStates(e), ['read']), { message: 'read tick' });
    await e.reload();
    await eventually(async () => assert.deepEqual(await tickStates(e), ['read']), { message: 'read tick after reload' });
    assert.deepEqual([...erin.problems, ...frank.problems], []);
    await erin.context.close();
    await frank.context.close();
  });

  test('delivered and read ticks that came while the sender was offline show once the sender is back, and after a reload', async () => {
    const gus = await newPerson(fx.browser);
    const hal = await newPerson(fx.browser);
    const inboxHead = async () => (await (await fetch(`${fx.server.pushUrl}/api/v1/admin/users/gus`)).json()).head;
    let g = await openChat(gus.context, fx.server, 'gus', 'hal');
    await type(g, 'Are you up?');
    await expectThread(g, view('gus', [['gus', 'Are you up?']]));
    assert.deepEqual(await tickStates(g), ['sent']);
    await g.close(); // gus is offline from here: each receipt waits in his inbox
    assert.equal(await inboxHead(), 0);

    // Hal's page is open on another conversation: his device gets and acks the message, unread.
    let h = await openChat(hal.context, fx.server, 'hal', 'ivy');
    await eventually(async () => assert.equal(await inboxHead(), 1), { message: 'the delivered receipt stored for gus' });
    g = await openChat(gus.context, fx.server, 'gus', 'hal');
    await eventually(async () => assert.deepEqual(await tickStates(g), ['delivered']), { message: 'delivered tick after reconnect' });
    await g.close();

    await h.close();
    h = await openChat(hal.context, fx.server, 'hal', 'gus');
    await expectThread(h, view('hal', [['gus', 'Are you up?']]));
    await eventually(async () => assert.equal(await inboxHead(), 2), { message: 'the read receipt stored for gus' });
    g = await openChat(gus.context, fx.server, 'gus', 'hal');
    await eventually(async () => assert.deepEqual(await tickStates(g), ['read']), { message: 'read tick after reconnect' });
    await g.reload();
    await waitForState(g, 'open');
    await eventually(async () => assert.deepEqual(await tickStates(g), ['read']), { message: 'read tick after reload' });
    assert.deepEqual([...gus.problems, ...hal.problems], []);
    await gus.context.close();
    await hal.context.close();
  });
});
