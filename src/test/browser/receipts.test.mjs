// Typing indicator and read ticks on the chat page (webroot/index.html): two people, two
// browser contexts, one real server.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newPerson, screenshot, serverAndBrowser } from './lib/harness.mjs';
import { expectThread, openChat, type, view } from './lib/chat.mjs';

/** The `read` flag of each of my own messages in the open thread, oldest first. */
function ticks(page) {
  return page.$$eval('#messages .msg.out', (nodes) => nodes.map((n) => n.dataset.read === 'true'));
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
});
