// The operator board (webroot/push.html) showing pushes that a back end sends with curl.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { curlPush, eventually, newPerson, screenshot, serverAndBrowser, sleep } from './lib/harness.mjs';

/** The board's feed, newest first: [{from, seq, body}]. */
function feed(page) {
  return page.$$eval('#feed li', (items) => items.map((li) => ({
    from: li.querySelector('.from').firstChild.textContent,
    seq: li.querySelector('.seq').textContent,
    body: li.querySelector('.text').textContent,
  })));
}

async function expectFeed(page, expected) {
  const check = async () => assert.deepEqual(await feed(page), expected);
  await eventually(check, { message: 'push board feed' });
  await sleep(300);
  await check();
}

async function openBoard(context, server, user) {
  const page = await context.newPage();
  await page.goto(`${server.url}/push.html?user=${encodeURIComponent(user)}&api=${encodeURIComponent(server.pushUrl)}`);
  await page.waitForSelector('#status[data-state="open"]');
  return page;
}

describe('push board', () => {
  const fx = serverAndBrowser();

  test('shows pushes sent with curl to the HTTP API, once each, newest first', async () => {
    // Sent before the board is open: stored, shown when it connects.
    const first = await curlPush(fx.server, { to: 'board', from: 'shop', body: 'Order #1001 has shipped' });
    assert.equal(first.status, 202);
    assert.equal(first.json.results[0].online, false);

    const operator = await newPerson(fx.browser);
    const page = await openBoard(operator.context, fx.server, 'board');
    const expected = [{ from: 'shop', seq: '#1', body: 'Order #1001 has shipped' }];
    await expectFeed(page, expected);

    const second = await curlPush(fx.server, { to: ['board', 'someone-else'], from: 'billing', body: 'Invoice 2025-114 paid: 49.00 €' });
    assert.equal(second.status, 202);
    assert.equal(second.json.results.find((r) => r.to === 'board').online, true);
    expected.unshift({ from: 'billing', seq: '#2', body: 'Invoice 2025-114 paid: 49.00 €' });
    await expectFeed(page, expected);

    // The same Idempotency-Key twice: one push.
    const key = 'feedback-77';
    const payload = { to: 'board', from: 'feedback', body: 'New feedback: “Love the app, dark mode please”' };
    const once = await curlPush(fx.server, payload, { idempotencyKey: key });
    const again = await curlPush(fx.server, payload, { idempotencyKey: key });
    assert.equal(once.json.duplicate, false);
    assert.equal(again.json.duplicate, true);
    expected.unshift({ from: 'feedback', seq: '#3', body: payload.body });
    await expectFeed(page, expected);

    // The board's own form goes through the same API from the browser (CORS).
    await page.fill('#to', 'board');
    await page.fill('#from', 'ops');
    await page.fill('#body', 'Maintenance window tonight 22:00–22:15 UTC');
    await page.click('#push-send');
    await eventually(async () => assert.match(await page.textContent('#push-line'), /^202 · stored for 1 of 1 recipient/));
    expected.unshift({ from: 'ops', seq: '#4', body: 'Maintenance window tonight 22:00–22:15 UTC' });
    await expectFeed(page, expected);
    await page.$eval('.side', (side) => { side.scrollTop = 0; });
    await screenshot(page, 'push-board');

    await page.fill('#presence-user', 'board');
    await page.click('#presence button');
    await eventually(async () => assert.match(await page.textContent('#presence-line'), /board online 1 session/));

    // A reload shows the same feed, nothing twice.
    await page.reload();
    await page.waitForSelector('#status[data-state="open"]');
    await expectFeed(page, expected);
    assert.deepEqual(operator.problems, []);
    await operator.context.close();
  });

  test('HTML in a push is shown as text and never runs', async () => {
    const operator = await newPerson(fx.browser);
    const page = await openBoard(operator.context, fx.server, 'board-2');
    const body = '<img src=x onerror="window.__pwned = true; alert(1)"><script>window.__pwned = true</script>';
    const from = '<img/src=x/onerror=window.__pwned=1>';
    const sent = await curlPush(fx.server, { to: 'board-2', from, body });
    assert.equal(sent.status, 202);
    await expectFeed(page, [{ from, seq: '#1', body }]);
    await sleep(500); // time for a broken image to fire onerror, had it been parsed as HTML
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('#feed img, #feed script').count(), 0);
    assert.deepEqual(operator.problems, []);
    await operator.context.close();
  });
});
