// Delivered and read ticks of room messages on the chat page (webroot/index.html): alice writes in
// a room of three; her message shows how many members' devices received it and how many read it.
// Three people, three browser contexts, one real server.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newPerson, screenshot, serverAndBrowser } from './lib/harness.mjs';
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
  const fx = serverAndBrowser();

  test('a room message shows delivered to n of m as members\' devices get it, and read by n as they open the room', async () => {
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
    assert.deepEqual([...alice.problems, ...bob.problems, ...carol.problems], []);
    await alice.context.close();
    await bob.context.close();
    await carol.context.close();
  });
});
