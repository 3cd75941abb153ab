// The admin page (webroot/admin.html) watching a jwt-mode server's /metrics while real sessions
// and pushes go through it, and looking a user up with the admin key.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Server, eventually, launchChromium, newPerson, screenshot, sleep, tempDir } from './lib/harness.mjs';

const SECRET = 'admin-test-secret-of-at-least-32-bytes';
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** An HS256 token for `user`, valid for an hour: what the application's login would issue. */
function token(user) {
  const part = (json) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: user, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`;
}

/** A push from the shop's back end; resolves with the HTTP status. */
async function push(server, payload) {
  const res = await fetch(`${server.pushUrl}/api/v1/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer shop-key' },
    body: JSON.stringify(payload),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('admin page', () => {
  const fx = {};
  before(async () => {
    fx.tmp = tempDir();
    fx.server = await new Server({
      dir: fx.tmp.dir,
      config: {
        metrics: { enabled: true },
        auth: {
          mode: 'jwt',
          jwtKey: SECRET,
          apiKeys: [
            { name: 'shop', sha256: sha256('shop-key') },
            { name: 'ops', sha256: sha256('ops-key'), admin: true },
          ],
        },
      },
    }).start();
    fx.browser = await launchChromium();
  });
  after(async () => {
    await fx.browser?.close();
    await fx.server?.stop();
    fx.tmp?.cleanup();
  });

  test('shows sessions, message rates, commit latency, refusals and the members table as they happen, and looks a user up with the admin key', async () => {
    const { server } = fx;
    const operator = await newPerson(fx.browser, { width: 1280, height: 820 });
    const page = await operator.context.newPage();
    await page.goto(`${server.url}/admin.html?api=${encodeURIComponent(server.pushUrl)}&interval=500`);

    // Without a key the scrape is refused, and the page says so.
    await page.click('#watch');
    await page.waitForSelector('#status[data-state="refused"]');
    assert.match(await page.textContent('#status .label'), /401/);

    await page.fill('#key', 'ops-key');
    await page.click('#watch');
    await page.waitForSelector('#status[data-state="open"]');
    await eventually(async () => assert.equal(await page.textContent('#ready'), 'ready'));
    assert.equal(await page.textContent('#members'), '1');
    assert.equal(await page.textContent('#behind'), '0');

    // Two users connect from another page of the same site, as the chat page would.
    const users = await operator.context.newPage();
    await users.goto(`${server.url}/admin.html`);
    const tokens = { bob: token('bob'), carol: token('carol') };
    await users.evaluate(({ url, tokens }) => {
      window.sockets = Object.entries(tokens).map(([user, jwt]) => new WebSocket(
        `${url.replace('http', 'ws')}/ws?device=phone`, ['switchboard.v1', `token.${jwt}`]));
    }, { url: server.url, tokens });
    await eventually(async () => assert.equal(await page.textContent('#sessions-now'), '2'), { message: 'sessions' });
    assert.equal(await page.textContent('#sessions-split'), 'v1 2 · text 0');
    // The members table: this node alone (not clustered: `local`, no event-bus address), with its two sessions.
    const members = () => page.$$eval('#members-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    await eventually(async () => assert.deepEqual(await members(), [['local', '–', '2']]), { message: 'members table' });
    assert.equal(await page.textContent('#members-line'), '1 member · 2 sessions');

    // A stream of pushes (and two refused ones) while the page watches.
    assert.equal(await push(server, { to: 'bad id!', body: 'refused' }), 400);
    assert.equal(await push(server, { to: 'bad id!', body: 'refused' }), 400);
    const stream = (async () => {
      for (let i = 0; i < 60; i += 1) {
        assert.equal(await push(server, { to: i % 2 ? 'bob' : 'carol', body: `update ${i}` }), 202);
        await sleep(40);
      }
    })();
    await eventually(async () => {
      assert.ok(Number(await page.textContent('#rate-in-now')) > 0, 'messages in per second');
      assert.ok(Number(await page.textContent('#rate-out-now')) > 0, 'messages out per second');
      assert.match(await page.textContent('#commit-now'), /^\d/, 'commit p99');
    }, { message: 'live rates' });
    await eventually(async () => {
      const rows = await page.$$eval('#refused-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
      assert.equal(rows.length, 1);
      assert.match(rows[0], /^invalid_user02$/);
    }, { message: 'refusals by code' });
    await stream;

    // A lookup with a key that is not an admin key is refused; with the admin key it shows bob.
    await page.fill('#key', 'shop-key');
    await page.fill('#lookup-user', 'bob');
    await page.fill('#lookup-devices', 'phone, tablet');
    await page.click('#lookup button');
    await eventually(async () => assert.match(await page.textContent('#lookup-line'), /^403 · forbidden/));
    await eventually(async () => assert.match(await page.textContent('#members-line'), /^403 · forbidden/), { message: 'members refused' });
    assert.ok(await page.locator('#members-table').isHidden());
    await page.fill('#key', 'ops-key');
    await page.click('#lookup button');
    await eventually(async () => assert.equal(await page.textContent('#lookup-line'), 'bob online 1 session · inbox head #30'));
    const cursors = await page.$$eval('#lookup-devices-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    // bob's socket here reads but never acks, so his cursor stays at 0.
    assert.deepEqual(cursors, [['phone', '#0', '30'], ['tablet', '#0', '30']]);
    assert.equal(await page.locator('#lookup-nodes tbody tr').count(), 1);

    // More traffic (to carol only, so bob's inbox stays as it is) while the screenshot is taken.
    const more = (async () => {
      for (let i = 0; i < 100; i += 1) {
        assert.equal(await push(server, { to: 'carol', body: `more ${i}` }), 202);
        await sleep(50);
      }
    })();
    await eventually(async () => assert.ok(Number(await page.textContent('#rate-in-now')) > 0), { message: 'rates during the screenshot' });
    await screenshot(page, 'admin');
    await more;
    await users.evaluate(() => window.sockets.forEach((s) => s.close()));
    await eventually(async () => assert.equal(await page.textContent('#sessions-now'), '0'), { message: 'sessions closed' });
    await eventually(async () => assert.deepEqual(await members(), [['local', '–', '0']]), { message: 'members after the close' });
    assert.deepEqual(operator.problems, []);
    await operator.context.close();
  });
});
