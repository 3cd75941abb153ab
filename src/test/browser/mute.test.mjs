// The Mute button of the chat page (webroot/index.html): it shows the setting the server stores
// (asked with a `muted` query when a conversation opens), sends `mute` when clicked and shows the
// answered state, for a direct conversation and a room; another device of the same user and a
// reload show the same. One real server, Chromium.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newPerson, screenshot, serverAndBrowser } from './lib/harness.mjs';
import { openChat, openConversation, waitForState } from './lib/chat.mjs';

/** The Mute button as shown: its label and the state it says the server answered ('' while unknown). */
function muteButton(page) {
  return page.$eval('#mute', (b) => ({ label: b.textContent, muted: b.dataset.muted, hidden: b.hidden }));
}

/** Every mute and muted frame the page writes to the server, as parsed JSON, in order. */
function recordMuteFrames(page) {
  const frames = [];
  page.on('websocket', (ws) => ws.on('framesent', ({ payload }) => {
    const frame = JSON.parse(String(payload));
    if (frame.type === 'mute' || frame.type === 'muted') frames.push(frame);
  }));
  return frames;
}

async function expectButton(page, label, muted, message) {
  await eventually(async () => assert.deepEqual(await muteButton(page), { label, muted, hidden: false }), { message });
}

describe('chat page: mute', () => {
  const fx = serverAndBrowser();

  test('the Mute button sends mute, shows the answered state, and shows the stored state on another device and after a reload', async () => {
    const jo = await newPerson(fx.browser);
    const page = await jo.context.newPage();
    const frames = recordMuteFrames(page);
    await page.goto(`${fx.server.url}/index.html?user=jo&peer=kim`);
    await waitForState(page, 'open');
    await expectButton(page, 'Mute', 'false', 'the stored state of kim: not muted');
    assert.deepEqual(frames.map(({ type, peer }) => ({ type, peer })), [{ type: 'muted', peer: 'kim' }]);

    await page.click('#mute');
    await expectButton(page, 'Unmute', 'true', 'muted once the server answered');
    const mute = frames.find((f) => f.type === 'mute');
    assert.deepEqual({ ...mute, id: typeof mute.id }, { type: 'mute', id: 'string', peer: 'kim', muted: true });
    await screenshot(page, 'chat-muted');

    // A room: muted by its own setting, which the direct conversation's does not change.
    await page.fill('#room', 'news');
    await page.press('#room', 'Enter');
    await eventually(async () => assert.equal(await page.textContent('#peer-name'), '# news'), { message: 'room opened' });
    await expectButton(page, 'Mute', 'false', 'the room is not muted');
    await page.click('#mute');
    await expectButton(page, 'Unmute', 'true', 'the room muted');
    assert.deepEqual(frames.filter((f) => f.type === 'mute').map(({ peer, room, muted }) => ({ peer, room, muted })),
      [{ peer: 'kim', room: undefined, muted: true }, { peer: undefined, room: 'news', muted: true }]);

    // Another device of jo (its own browser storage) reads the same settings from the server.
    const laptop = await newPerson(fx.browser);
    const other = await openChat(laptop.context, fx.server, 'jo', 'kim');
    await expectButton(other, 'Unmute', 'true', 'kim muted, as seen by another device');
    await other.click('#mute');
    await expectButton(other, 'Mute', 'false', 'kim unmuted from the other device');

    // A reload asks again: kim was unmuted elsewhere, the room stays muted.
    await page.reload();
    await waitForState(page, 'open');
    await expectButton(page, 'Mute', 'false', 'kim after the reload');
    await openConversation(page, '# news');
    await expectButton(page, 'Unmute', 'true', 'the room after the reload');
    assert.deepEqual([...jo.problems, ...laptop.problems], []);
    await jo.context.close();
    await laptop.context.close();
  });
});
