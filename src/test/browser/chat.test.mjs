// The chat page (webroot/index.html): two people, two browser contexts, one real server.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newPerson, screenshot, serverAndBrowser, sleep } from './lib/harness.mjs';
import { expectThread, openChat, thread, type, view, waitForState } from './lib/chat.mjs';

describe('chat page', () => {
  const fx = serverAndBrowser();

  test('two users chat both ways; each message appears once, in order', async () => {
    const alice = await newPerson(fx.browser);
    const bob = await newPerson(fx.browser);
    const a = await openChat(alice.context, fx.server, 'alice', 'bob');
    const b = await openChat(bob.context, fx.server, 'bob', 'alice');

    const said = [];
    const say = async (page, from, body) => {
      await type(page, body);
      said.push([from, body]);
    };
    await say(a, 'alice', 'Hi Bob! Did the build finish?');
    await say(a, 'alice', 'The release is waiting on it.');
    await expectThread(b, view('bob', said));
    await say(b, 'bob', 'Yes, all green a minute ago.');
    await say(b, 'bob', 'Tagging v1.4.0 now.');
    await say(b, 'bob', 'Notes are in the usual place.');
    await expectThread(a, view('alice', said));
    await say(a, 'alice', 'Great, thanks! I’ll announce it — café’s on me.');
    await expectThread(b, view('bob', said)); // before bob answers, or the two would cross
    await say(b, 'bob', 'Ping me if anything breaks.');

    await expectThread(a, view('alice', said));
    await expectThread(b, view('bob', said));
    await screenshot(b, 'chat');
    assert.deepEqual([...alice.problems, ...bob.problems], []);
    await alice.context.close();
    await bob.context.close();
  });

  test('a recipient who closed the page gets every message once, in order, when it is opened again', async () => {
    const carol = await newPerson(fx.browser);
    const dave = await newPerson(fx.browser);
    const c = await openChat(carol.context, fx.server, 'carol', 'dave');
    let d = await openChat(dave.context, fx.server, 'dave', 'carol');
    const said = [['carol', 'Before you go: one question.'], ['dave', 'Sure, shoot.']];
    await type(c, said[0][1]);
    await expectThread(d, view('dave', said.slice(0, 1)));
    await type(d, said[1][1]);
    await expectThread(c, view('carol', said));

    await d.close();
    await eventually(async () => assert.equal((await fx.server.presence('dave')).online, false),
      { message: 'dave offline after closing the page' });
    for (let i = 1; i <= 4; i += 1) {
      const body = `While you were away #${i}`;
      await type(c, body);
      said.push(['carol', body]);
    }
    await expectThread(c, view('carol', said)); // all stored ("sent") while dave is offline

    d = await openChat(dave.context, fx.server, 'dave', 'carol');
    await expectThread(d, view('dave', said));
    await d.reload();
    await expectThread(d, view('dave', said));
    // A message after the reload still arrives exactly once.
    said.push(['carol', 'Welcome back.']);
    await type(c, 'Welcome back.');
    await expectThread(d, view('dave', said));
    assert.deepEqual([...carol.problems, ...dave.problems], []);
    await carol.context.close();
    await dave.context.close();
  });

  test('HTML in a message is shown as text and never runs', async () => {
    const erin = await newPerson(fx.browser);
    const frank = await newPerson(fx.browser);
    const e = await openChat(erin.context, fx.server, 'erin', 'frank');
    const f = await openChat(frank.context, fx.server, 'frank', 'erin');
    const payload = '<img src=x onerror="window.__pwned = true; alert(1)"><b>bold?</b>';
    await type(e, payload);
    await expectThread(f, view('frank', [['erin', payload]]));
    await expectThread(e, view('erin', [['erin', payload]]));
    await sleep(500); // time for a broken image to fire onerror, had it been parsed as HTML
    for (const page of [e, f]) {
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
      assert.equal(await page.locator('#messages img, #messages b, #conversations img').count(), 0);
      assert.equal((await thread(page))[0].body, payload);
    }
    assert.equal(await f.locator('#conversations .preview').first().textContent(), payload);
    assert.deepEqual([...erin.problems, ...frank.problems], []);
    await erin.context.close();
    await frank.context.close();
  });

  test('a send the server refuses as overloaded is sent again with its id and arrives once', async () => {
    const ivy = await newPerson(fx.browser);
    const jack = await newPerson(fx.browser);
    const i = await ivy.context.newPage();
    // Between ivy's page and the real server: the first send is answered as an overloaded node
    // answers (nothing stored), every other frame passes both ways untouched.
    const refusedIds = [];
    const sentIds = [];
    await i.routeWebSocket(/\/ws/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        let frame = null;
        try {
          frame = JSON.parse(message);
        } catch {
          // not JSON: passed on as it is
        }
        if (frame?.type === 'send') {
          sentIds.push(frame.id);
          if (refusedIds.length === 0) {
            refusedIds.push(frame.id);
            ws.send(JSON.stringify({ type: 'error', id: frame.id, code: 'overloaded',
              message: 'this node is behind (test)' }));
            return;
          }
        }
        server.send(message);
      });
    });
    await i.goto(`${fx.server.url}/index.html?user=ivy&peer=jack`);
    await waitForState(i, 'open');
    const j = await openChat(jack.context, fx.server, 'jack', 'ivy');
    const body = 'Refused once, stored once';
    await type(i, body);
    await expectThread(j, view('jack', [['ivy', body]]));
    await expectThread(i, view('ivy', [['ivy', body]]));
    assert.equal(refusedIds.length, 1);
    assert.deepEqual(sentIds, [refusedIds[0], refusedIds[0]], 'sent again, with the same id');
    assert.deepEqual([...ivy.problems, ...jack.problems], []);
    await ivy.context.close();
    await jack.context.close();
  });

  test('a message typed after Disconnect waits, and goes out once on Connect', async () => {
    const kim = await newPerson(fx.browser);
    const lee = await newPerson(fx.browser);
    const k = await openChat(kim.context, fx.server, 'kim', 'lee');
    const l = await openChat(lee.context, fx.server, 'lee', 'kim');
    await k.click('#disconnect');
    await waitForState(k, 'closed');
    await type(k, 'Typed while disconnected');
    assert.deepEqual((await thread(k)).at(-1), { from: 'You', body: 'Typed while disconnected', status: 'pending' });
    await k.click('#connect');
    await waitForState(k, 'open');
    await expectThread(l, view('lee', [['kim', 'Typed while disconnected']]));
    await expectThread(k, view('kim', [['kim', 'Typed while disconnected']]));
    assert.deepEqual([...kim.problems, ...lee.problems], []);
    await kim.context.close();
    await lee.context.close();
  });
});
