// A server crash (SIGKILL) and restart on the same port and data dir while both chat pages
// stay open: the pages reconnect by themselves; nothing is lost or doubled.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPerson, serverAndBrowser } from './lib/harness.mjs';
import { expectThread, openChat, thread, type, view, waitForState } from './lib/chat.mjs';

describe('server crash and restart', () => {
  const fx = serverAndBrowser();

  test('open pages reconnect after kill -9 and a restart, and lose or double nothing', async () => {
    const alice = await newPerson(fx.browser);
    const bob = await newPerson(fx.browser);
    const a = await openChat(alice.context, fx.server, 'alice', 'bob');
    const b = await openChat(bob.context, fx.server, 'bob', 'alice');
    const said = [];

    await type(a, 'Deploying the new version now.');
    said.push(['alice', 'Deploying the new version now.']);
    await expectThread(b, view('bob', said));
    await type(b, 'OK, watching the graphs.');
    said.push(['bob', 'OK, watching the graphs.']);
    await expectThread(a, view('alice', said));

    // A burst the server has stored ("sent") but may not have delivered yet when it dies.
    for (let i = 1; i <= 3; i += 1) {
      await type(a, `Step ${i} of 3 done`);
      said.push(['alice', `Step ${i} of 3 done`]);
    }
    await expectThread(a, view('alice', said), { timeout: 20_000 });
    const port = fx.server.gatewayPort;
    await fx.server.kill();

    await waitForState(a, 'reconnecting');
    await waitForState(b, 'reconnecting');
    // Typed while the server is down: shown as pending, sent after the restart.
    await type(a, 'Is the fx.server down?');
    await type(b, 'It went away for a moment.');
    assert.deepEqual((await thread(a)).at(-1), { from: 'You', body: 'Is the fx.server down?', status: 'pending' });
    assert.deepEqual((await thread(b)).at(-1), { from: 'You', body: 'It went away for a moment.', status: 'pending' });

    await fx.server.start();
    assert.equal(fx.server.gatewayPort, port);
    await waitForState(a, 'open', 60_000);
    await waitForState(b, 'open', 60_000);

    // Each page shows its own pending message first, then the other's as it arrives.
    const aliceView = [...view('alice', said), { from: 'You', body: 'Is the fx.server down?', status: 'sent' },
      { from: 'bob', body: 'It went away for a moment.', status: 'received' }];
    const bobView = [...view('bob', said), { from: 'You', body: 'It went away for a moment.', status: 'sent' },
      { from: 'alice', body: 'Is the fx.server down?', status: 'received' }];
    await expectThread(a, aliceView);
    await expectThread(b, bobView);

    // Live again, both ways.
    await type(b, 'Back up, all good.');
    bobView.push({ from: 'You', body: 'Back up, all good.', status: 'sent' });
    aliceView.push({ from: 'bob', body: 'Back up, all good.', status: 'received' });
    await expectThread(a, aliceView);
    await type(a, 'Thanks!');
    aliceView.push({ from: 'You', body: 'Thanks!', status: 'sent' });
    bobView.push({ from: 'alice', body: 'Thanks!', status: 'received' });
    await expectThread(b, bobView);
    await expectThread(a, aliceView);

    // And a reload after all that brings nothing twice.
    await a.reload();
    await b.reload();
    await waitForState(a, 'open');
    await waitForState(b, 'open');
    await expectThread(a, aliceView);
    await expectThread(b, bobView);
    assert.deepEqual([...alice.problems, ...bob.problems], []);
  });
});
