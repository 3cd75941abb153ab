// The seed page (the first article's chat page, jQuery 1.11.3, `TO|CONTENT` frames over
// /Handler1.ashx) against the real server, served unchanged from a temp dir.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server, eventually, launchChromium, newPerson, screenshot, sleep, tempDir } from './lib/harness.mjs';
import { SEED_PAGE, seedUnavailable, writeSeedSite } from './lib/seed.mjs';

// What the page itself writes into #msg: "connecting", "connected", "closed".
const CONNECTING = '正在连接';
const CONNECTED = '已经连接';
const CLOSED = '已经关闭';

/** Every line the page shows in #msg, oldest first. */
function lines(page) {
  return page.$$eval('#msg p', (ps) => ps.map((p) => p.textContent));
}

async function expectLines(page, expected) {
  const check = async () => assert.deepEqual(await lines(page), expected);
  await eventually(check, { message: 'seed page #msg' });
  await sleep(300);
  await check();
}

async function openSeed(context, server) {
  const page = await context.newPage();
  await page.goto(`${server.url}/${SEED_PAGE}`);
  return page;
}

/** What a person does on the seed page: type the user id, press the connect button. */
async function connectAs(page, user) {
  await page.fill('#user', user);
  await page.click('#conn');
}

async function sendTo(page, to, content) {
  await page.fill('#to', to);
  await page.fill('#content', content);
  await page.click('#send');
}

// Without ../shared each test is reported as skipped, with the reason.
const skip = seedUnavailable() ?? false;

/**
 * The seed page's site: a temp dir holding it, a server with that dir as its webroot (and
 * `config` merged into its config), and a Chromium; stop() closes what start() got to.
 */
function seedSite(config = {}) {
  const parts = {};
  return {
    async start() {
      parts.tmp = tempDir();
      const site = path.join(parts.tmp.dir, 'site');
      mkdirSync(site);
      writeSeedSite(site);
      parts.server = await new Server({ dir: parts.tmp.dir, webroot: site, config }).start();
      parts.browser = await launchChromium();
      return parts;
    },
    async stop() {
      await parts.browser?.close();
      await parts.server?.stop();
      parts.tmp?.cleanup();
    },
  };
}

describe('seed page', () => {
  const site = seedSite();
  let server;
  let browser;

  before(async () => {
    if (!skip) ({ server, browser } = await site.start());
  });

  after(() => site.stop());

  test('A and B chat; B closes, misses two messages, reconnects and sees them in order', { skip }, async () => {
    const personA = await newPerson(browser, { width: 640, height: 400 });
    const personB = await newPerson(browser, { width: 640, height: 400 });
    const a = await openSeed(personA.context, server);
    const b = await openSeed(personB.context, server);
    const shownA = [CONNECTING, CONNECTED];
    const shownB = [CONNECTING, CONNECTED];
    await connectAs(a, 'A');
    await expectLines(a, shownA);
    await connectAs(b, 'B');
    await expectLines(b, shownB);

    await sendTo(b, 'A', 'A你好,我是B!');
    shownA.push('A你好,我是B!');
    await expectLines(a, shownA);
    await sendTo(a, 'B', 'B你好, got it | over');
    shownB.push('B你好, got it | over');
    await expectLines(b, shownB);

    await b.click('#close');
    shownB.push(CLOSED);
    await expectLines(b, shownB);
    await eventually(async () => assert.equal((await server.presence('B')).online, false),
      { message: 'B offline after its close button' });

    await sendTo(a, 'B', 'First while you were away');
    await sendTo(a, 'B', 'Second while you were away');
    await sleep(500); // stored by now; B must not have them yet
    await expectLines(b, shownB);

    await b.click('#conn');
    shownB.push(CONNECTING, CONNECTED, 'First while you were away', 'Second while you were away');
    await expectLines(b, shownB);
    await screenshot(b, 'seed-page');
    await expectLines(a, shownA);
    assert.equal(await a.textContent('#tips'), '');
    assert.deepEqual([...personA.problems, ...personB.problems], []);
    await personA.context.close();
    await personB.context.close();
  });

  test('HTML in a message shows as text: the server escapes it for the page', { skip }, async () => {
    const personA = await newPerson(browser);
    const personB = await newPerson(browser);
    const a = await openSeed(personA.context, server);
    const b = await openSeed(personB.context, server);
    await connectAs(a, 'xss-A');
    await connectAs(b, 'xss-B');
    await expectLines(a, [CONNECTING, CONNECTED]);
    await expectLines(b, [CONNECTING, CONNECTED]);
    const payload = '<img src=x onerror="window.__pwned = true; alert(1)"> & <b>bold?</b>';
    await sendTo(a, 'xss-B', payload);
    await expectLines(b, [CONNECTING, CONNECTED, payload]);
    await sleep(500); // time for a broken image to fire onerror, had it been parsed as HTML
    assert.equal(await b.evaluate(() => window.__pwned), undefined);
    assert.equal(await b.locator('#msg img, #msg b').count(), 0);
    assert.deepEqual([...personA.problems, ...personB.problems], []);
    await personA.context.close();
    await personB.context.close();
  });
});

describe('seed page, with messages past retention', () => {
  const site = seedSite({ inbox: { retentionSeconds: 1 } });
  let server;
  let browser;

  before(async () => {
    if (!skip) ({ server, browser } = await site.start());
  });

  after(() => site.stop());

  /** Pushes one message over the HTTP API; the stored message's timestamp. */
  async function push(to, body) {
    const res = await fetch(`${server.pushUrl}/api/v1/messages`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to, body }),
    });
    assert.equal(res.status, 202);
    return (await res.json()).results[0].ts;
  }

  test('messages that expired before the page connected show as one GAP line, then the chat goes on', { skip }, async () => {
    await push('gap-B', 'gone 1');
    const ts = await push('gap-B', 'gone 2');
    // Retention goes by the clock: wait until the newer one is past it.
    await sleep(Math.max(0, ts + 1_000 + 50 - Date.now()));
    const personA = await newPerson(browser);
    const personB = await newPerson(browser);
    const a = await openSeed(personA.context, server);
    const b = await openSeed(personB.context, server);
    await connectAs(b, 'gap-B');
    const shownB = [CONNECTING, CONNECTED, 'GAP|1|2|2 messages expired before they could be delivered'];
    await expectLines(b, shownB);
    await connectAs(a, 'gap-A');
    await expectLines(a, [CONNECTING, CONNECTED]);
    await sendTo(a, 'gap-B', 'after the gap');
    shownB.push('after the gap');
    await expectLines(b, shownB);
    assert.deepEqual([...personA.problems, ...personB.problems], []);
    await personA.context.close();
    await personB.context.close();
  });
});
