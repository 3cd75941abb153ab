// Delivered and read ticks of room messages on the chat page (webroot/index.html): alice writes in
// a room of three; her message shows how many members' devices received it and how many read it.
// With a fourth member the room is above limits.roomReceiptMembers (3 here): the page's send asking
// for receipts is refused, goes again without them and shows once. Three people, three browser
// contexts, one real server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, eventually, launchChromium, newPerson, screenshot, tempDir } from './lib/harness.mjs';
import { expectThread, openChat, type, view } from './lib/chat.mjs';

/** The ticks of my own messages in the open thread, oldest first: [deliveredTo, readBy, text]. */
function roomTicks(page) {
  return page.$$eval('#messages .msg.out', (nodes) => nodes.map((n) => [
    Number(n.dataset.deliveredTo || 0), Number(n.dataset.readBy || 0), n.querySelector('.state')?.textContent,
  ]));
}

/** Opens the conversation with that key in the sidebar: a user id, or room|<id> for a room. */
async function openConversation(page, key) {
  const button = page.locator(`#conversations .conversation[data-peer="${key}"]`);
  await button.waitFor({ timeout: 20_000 });
  await button.click();
}

describe('chat page: room receipts', () => {
  // Rooms of up to three members take receipts here, so that a fourth member makes one too big.
  const fx = {};
  before(async () => {
    fx.tmp = tempDir();
    fx.server = await new Server({ dir: fx.tmp.dir, config: { limits: { roomReceiptMembers: 3 } } }).start();
    fx.browser = await launchChromium();
  });
  after(async () => {
    await fx.browser?.close();
    await fx.server?.stop();
    fx.tmp?.cleanup();
  });

  test('a room message shows delivered to n of m and read by n; once the room is too big, one tick', async () => {
    const alice = await newPerson(fx.browser);
    const bob = await newPerson(fx.browser);
    const carol = await newPerson(fx.browser);
    const a = await openChat(alice.context, fx.server, 'alice', 'bob');
    const b = await openChat(bob.context, fx.server, 'bob', 'alice');
    const c = await openChat(carol.context, fx.server, 'carol', 'alice');

    await a.fill('#room', 'team');
    await a.press('#room', 'Enter');
    await eventually(async () => assert.equal(await a.textContent('#peer-name'), '# team'), { message: 'room opened' });
    for (const member of ['bob', 'carol']) {
      await a.fill('#member', member);
      await a.press('#member', 'Enter');
    }
    // bob looks at the room; carol's page gets its messages but shows her conversation with alice.
    await openConversation(b, 'room|team');
    await openConversation(c, 'room|team');
    await openConversation(c, 'alice');

    await type(a, 'Hello team');
    await expectThread(b, view('bob', [['alice', 'Hello team']]));
    await eventually(async () => assert.deepEqual(await roomTicks(a), [[2, 1, '✓✓ delivered to 2 of 2 · read by 1']]),
      { message: 'delivered to both, read by bob' });

    await openConversation(c, 'room|team');
    await expectThread(c, view('carol', [['alice', 'Hello team']]));
    await eventually(async () => assert.deepEqual(await roomTicks(a), [[2, 2, '✓✓ delivered to 2 of 2 · read by 2']]),
      { message: 'read by carol too' });
    await screenshot(a, 'chat-room-receipts');

    // The ticks are kept with the history: a reload shows them again.
    await a.reload();
    await openConversation(a, 'room|team'); // the page opens on the peer its address names
    await eventually(async () => assert.deepEqual(await roomTicks(a), [[2, 2, '✓✓ delivered to 2 of 2 · read by 2']]),
      { message: 'ticks after a reload' });

    // A fourth member makes the room too big for receipts: the message is refused with
    // room_too_big, sent again without them and shown once, sent, with one tick.
    await a.fill('#member', 'dave');
    await a.press('#member', 'Enter');
    await eventually(async () => assert.deepEqual(await a.$$eval('#messages .event', (n) => n.length), 4),
      { message: 'dave added' });
    await type(a, 'Four of us now');
    const both = [['alice', 'Hello team'], ['alice', 'Four of us now']];
    await expectThread(b, view('bob', both));
    await expectThread(a, view('alice', both));
    await eventually(async () => assert.deepEqual((await roomTicks(a))[1], [0, 0, '✓ sent']), { message: 'one tick' });
    assert.deepEqual([...alice.problems, ...bob.problems, ...carol.problems], []);
    await alice.context.close();
    await bob.context.close();
    await carol.context.close();
  });
});
