// A full localStorage in Chromium: the client reports each failed write as a `storage` event,
// and a send made while storage is full still goes out and settles.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPerson, serverAndBrowser } from './lib/harness.mjs';

describe('storage quota', () => {
  const fx = serverAndBrowser();

  test('sends made with localStorage full are reported as storage events and still settle', async () => {
    const person = await newPerson(fx.browser);
    const page = await person.context.newPage();
    await page.goto(`${fx.server.url}/index.html`); // no ?user=: the page itself starts no client
    const result = await page.evaluate(async () => {
      const { SwitchboardClient } = await import('/js/switchboard.js');
      // Fill the origin's quota: big pieces first, then small ones, until nothing fits.
      let n = 0;
      for (const size of [1 << 20, 1 << 16, 1 << 10, 16]) {
        const piece = 'f'.repeat(size);
        try {
          for (;;) localStorage.setItem(`filler-${n++}`, piece);
        } catch {
          // full at this size
        }
      }
      const client = new SwitchboardClient({ user: 'quota', device: 'q1' });
      const storageEvents = [];
      client.on('storage', (e) => storageEvents.push({ op: e.op, name: e.error?.name, id: e.id }));
      // Queued before the connection (as offline), then sent once connected.
      const sends = [client.send('quota-peer', 'x'.repeat(20_000)), client.send('quota-peer', 'second')];
      const ids = sends.map((s) => s.id);
      const pendingBefore = client.pending.map((p) => p.id);
      client.connect();
      const settled = await Promise.allSettled(sends);
      client.close();
      return {
        ids,
        pendingBefore,
        storageEvents,
        settled: settled.map((s) => (s.status === 'fulfilled' ? { id: s.value.id, msgId: s.value.msgId } : { error: s.reason.code })),
      };
    });
    for (const id of result.ids) {
      assert.ok(result.storageEvents.some((e) => e.op === 'write' && e.name === 'QuotaExceededError' && e.id === id),
        `a storage event for send ${id}: ${JSON.stringify(result.storageEvents)}`);
    }
    assert.deepEqual(result.pendingBefore, result.ids, 'kept in memory although storage refused them');
    assert.deepEqual(result.settled.map((s) => s.id), result.ids);
    assert.ok(result.settled.every((s) => typeof s.msgId === 'string'));
    assert.deepEqual(person.problems, []);
    await person.context.close();
  });
});
