// Two tabs of one user (one browser context: shared localStorage, one device id) on index.html,
// both queueing sends while the server is down, one of them reloaded before it comes back.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, newPerson, serverAndBrowser } from './lib/harness.mjs';
import { expectThread, openChat, thread, type, view, waitForState } from './lib/chat.mjs';

/** Every write of the stored cursor in this page: [value before, value written]. */
function recordCursorWrites() {
  window.__cursorWrites = [];
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    if (String(key).includes(':seq:')) window.__cursorWrites.push([this.getItem(key), String(value)]);
    return setItem.call(this, key, value);
  };
}

/** The seq of a stored cursor, whatever its layout ("42" or {"seq":42,...}); -1 for none. */
function seqOf(value) {
  if (value === null) return -1;
  const parsed = JSON.parse(value);
  return typeof parsed === 'number' ? parsed : parsed.seq;
}

describe('two tabs of one user', () => {
  const fx = serverAndBrowser();

  test('sends queued in both tabs while the server is down each arrive once; the cursor never moves back', async () => {
    const pal = await newPerson(fx.browser);
    const tabby = await newPerson(fx.browser);
    await tabby.context.addInitScript(recordCursorWrites);
    const p = await openChat(pal.context, fx.server, 'pal', 'tabby');
    const said = [];
    for (let i = 1; i <= 3; i += 1) {
      await type(p, `hello ${i}`);
      said.push(['pal', `hello ${i}`]);
    }
    await expectThread(p, view('pal', said));
    const one = await openChat(tabby.context, fx.server, 'tabby', 'pal');
    await expectThread(one, view('tabby', said));
    const two = await openChat(tabby.context, fx.server, 'tabby', 'pal');
    await expectThread(two, view('tabby', said));

    await fx.server.kill();
    // The pages themselves still load from webroot/ (a reload must not need the server);
    // only their WebSockets find it gone.
    const origin = new URL(fx.server.url).origin;
    await tabby.context.route((u) => u.origin === origin, (route) => route.fulfill({
      path: path.join(ROOT, 'webroot', new URL(route.request().url()).pathname),
    }));
    await waitForState(one, 'reconnecting');
    await waitForState(two, 'reconnecting');
    const queued = [];
    for (const [page, name] of [[one, 'one'], [two, 'two']]) {
      for (let i = 1; i <= 3; i += 1) {
        const body = `queued in tab ${name}, #${i}`;
        await type(page, body);
        queued.push(['tabby', body]);
      }
    }
    // The first tab goes away and comes back while the server is still down.
    await one.reload();
    await waitForState(one, 'reconnecting');
    assert.deepEqual((await thread(one)).filter((m) => m.status === 'pending').map((m) => m.body).sort(),
      queued.map(([, body]) => body).sort(), 'the reloaded tab still lists every queued send');

    await fx.server.start();
    // A page fulfilled by the test counts as outside the local network, and Chromium then blocks
    // its WebSocket to 127.0.0.1: load the first tab from the server again.
    await tabby.context.unrouteAll();
    await one.reload();
    await waitForState(one, 'open', 60_000);
    await waitForState(two, 'open', 60_000);
    await expectThread(p, view('pal', [...said, ...queued]));
    await expectThread(one, view('tabby', [...said, ...queued]));
    await expectThread(two, view('tabby', [...said, ...queued]));

    // Live again: a new message reaches both tabs, once each.
    await type(p, 'all here?');
    said.push(['pal', 'all here?']);
    await expectThread(one, view('tabby', [...said.slice(0, 3), ...queued, ...said.slice(3)]));
    await expectThread(two, view('tabby', [...said.slice(0, 3), ...queued, ...said.slice(3)]));

    for (const page of [one, two]) {
      const writes = await page.evaluate(() => window.__cursorWrites);
      for (const [before, after] of writes) {
        assert.ok(seqOf(after) >= seqOf(before), `cursor moved back from ${before} to ${after}`);
      }
    }
    const stored = await two.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('switchboard:seq:tabby:'))?.[1]);
    // pal's page marks what it reads, so tabby's inbox holds pal's read receipts beside the messages.
    const admin = await fetch(`${fx.server.pushUrl}/api/v1/admin/users/tabby`).then((r) => r.json());
    assert.ok(admin.head >= 4, `tabby's inbox holds the four messages from pal (head ${admin.head})`);
    assert.equal(seqOf(stored), admin.head, 'the cursor is at the last entry of tabby\'s inbox');
    assert.deepEqual([...pal.problems, ...tabby.problems], []);
    await pal.context.close();
    await tabby.context.close();
  });
});
