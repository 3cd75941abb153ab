// Rooms on the chat page (webroot/index.html): alice creates a room and adds bob, both write in
// it; carol is added later and sees nothing older than her joining, then the conversation goes on
// for all three. Three people, three browser contexts, one real server.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newPerson, screenshot, serverAndBrowser } from './lib/harness.mjs';
import { expectThread, openChat, openConversation, type, view } from './lib/chat.mjs';

/** The room events shown in the open thread, oldest first. */
function events(page) {
  return page.$$eval('#messages .event', (nodes) => nodes.map((n) => n.textContent));
}

describe('chat page: rooms', () => {
  const fx = serverAndBrowser();

  test('two members write in a room live; a third added later sees only what follows, live and after a reload', async () => {
    const alice = await newPerson(fx.browser);
    const bob = await newPerson(fx.browser);
    const carol = await newPerson(fx.browser);
    const a = await openChat(alice.context, fx.server, 'alice', 'bob');
    const b = await openChat(bob.context, fx.server, 'bob', 'alice');
    assert.equal(await a.isVisible('#room-tools'), false, 'no room tools (Add, Leave) in a direct conversation');

    await a.fill('#room', 'team');
    await a.press('#room', 'Enter');
    await eventually(async () => assert.equal(await a.textContent('#peer-name'), '# team'), { message: 'room opened' });
    await a.fill('#member', 'bob');
    await a.press('#member', 'Enter');
    await eventually(async () => assert.deepEqual(await events(a), ['you created the room', 'you added bob']),
      { message: 'events at alice' });
    assert.equal(await a.isVisible('#room-tools'), true, 'room tools in the room');

    await openConversation(b, '# team');
    await eventually(async () => assert.deepEqual(await events(b), ['alice added you']), { message: 'bob joined' });
    await type(a, 'Hello team');
    await expectThread(b, view('bob', [['alice', 'Hello team']]));
    await type(b, 'Hi alice');
    const before = [['alice', 'Hello team'], ['bob', 'Hi alice']];
    await expectThread(a, view('alice', before));

    // carol is added while she is offline: her page shows the room with nothing older than that.
    await a.fill('#member', 'carol');
    await a.press('#member', 'Enter');
    const c = await openChat(carol.context, fx.server, 'carol', 'alice');
    await openConversation(c, '# team');
    await eventually(async () => assert.deepEqual(await events(c), ['alice added you']), { message: 'carol joined' });
    await expectThread(c, []);

    await type(a, 'Welcome carol');
    const after = [['alice', 'Welcome carol']];
    await expectThread(c, view('carol', after));
    await expectThread(b, view('bob', [...before, ...after]));
    await type(c, 'Thanks!');
    await expectThread(a, view('alice', [...before, ...after, ['carol', 'Thanks!']]));
    await expectThread(b, view('bob', [...before, ...after, ['carol', 'Thanks!']]));
    await screenshot(a, 'chat-room');

    await c.reload();
    await openConversation(c, '# team');
    await expectThread(c, view('carol', [...after, ['carol', 'Thanks!']]));
    assert.deepEqual([...alice.problems, ...bob.problems, ...carol.problems], []);
    await alice.context.close();
    await bob.context.close();
    await carol.context.close();
  });
});
