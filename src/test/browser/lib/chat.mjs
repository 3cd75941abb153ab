// Driving webroot/index.html the way a person does: type, press Enter, read the thread.

import assert from 'node:assert/strict';
import { eventually, sleep } from './harness.mjs';

/** Opens the chat as `user`, in the conversation with `peer`, and waits until it is online. */
export async function openChat(context, server, user, peer) {
  const page = await context.newPage();
  await page.goto(`${server.url}/index.html?user=${encodeURIComponent(user)}&peer=${encodeURIComponent(peer)}`);
  await waitForState(page, 'open');
  return page;
}

/** Waits until the status badge shows `state` (open, reconnecting, closed, ...). */
export function waitForState(page, state, timeout = 30_000) {
  return page.waitForSelector(`#status[data-state="${state}"]`, { timeout });
}

/** Types `text` into the composer and presses Enter. */
export async function type(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** The open thread, oldest first: [{from, body, status}] ("You" for my own messages). */
export function thread(page) {
  return page.$$eval('#messages .msg', (nodes) => nodes.map((n) => ({
    from: n.querySelector('.from').textContent,
    body: n.querySelector('.bubble').textContent,
    status: n.dataset.status,
  })));
}

/** Asserts that the thread becomes exactly `expected`, and stays so (no late doubles). */
export async function expectThread(page, expected, { timeout = 20_000 } = {}) {
  const check = async () => assert.deepEqual(await thread(page), expected);
  await eventually(check, { timeout, message: 'thread' });
  await sleep(300);
  await check();
}

/** `[from, body]` pairs as the page of `me` shows them once everything is stored. */
export function view(me, pairs) {
  return pairs.map(([from, body]) => (from === me
    ? { from: 'You', body, status: 'sent' }
    : { from, body, status: 'received' }));
}

/** Opens the conversation with that title in the sidebar (it appears once its first message or room event came). */
export async function openConversation(page, name) {
  const button = page.locator('#conversations .conversation', { hasText: name });
  await button.waitFor({ timeout: 20_000 });
  await button.click();
}
