// What the chat page, the push board and the admin page share: DOM helpers, notices, the top
// bar's status, and calls to the push API. Not part of the client package in js/.

export const $ = (id) => document.getElementById(id);

/** A new element; text goes in with textContent, never as HTML, since it may come from a user. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

/** A small coloured label: kind is on, off or err. */
export function tag(text, kind) {
  return el('span', `tag ${kind}`, text);
}

/** A notice in the corner that goes away by itself; errors stay longer. */
export function notice(text, kind = 'warn') {
  const node = el('div', `notice ${kind}`, text);
  $('notices').append(node);
  setTimeout(() => node.remove(), kind === 'error' ? 9000 : 6000);
}

/** The top bar's #status: its state (the dot's colour) and label. */
export function setStatus(state, label) {
  $('status').dataset.state = state;
  $('status').querySelector('.label').textContent = label;
}

/**
 * The top bar of a page with a client: its state (or override) with a countdown to retryAt while
 * reconnecting, the retry link, and Connect or Disconnect with the user id locked while connected.
 */
export function renderClientStatus(client, retryAt, override) {
  const state = override || client?.state || 'closed';
  let label = { connecting: 'Connecting…', open: 'Online', closed: 'Offline', refused: 'Refused' }[state];
  if (state === 'reconnecting') {
    const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    label = seconds > 0 ? `Reconnecting in ${seconds}s…` : 'Reconnecting…';
  }
  setStatus(state, label);
  $('retry').hidden = state !== 'reconnecting';
  const connected = client && client.state !== 'closed';
  $('connect').hidden = Boolean(connected);
  $('disconnect').hidden = !connected;
  $('user').disabled = Boolean(connected);
}

/** The push API base URL in #api: ?api= when given, else this host on port 8081. */
export function initApiBase(params) {
  $('api').value = params.get('api') || `${location.protocol}//${location.hostname}:8081`;
}

function apiBase() {
  return $('api').value.trim().replace(/\/+$/, '');
}

/**
 * fetch on the push API at #api, with the failures an operator needs to tell apart: unreachable
 * (or no answer within timeoutMs), or an answer, as { status, statusText, json, text } (json null
 * when the body is not JSON).
 */
export async function callApi(path, init = {}, timeoutMs = 15000) {
  const url = apiBase() + path;
  let response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), mode: 'cors' });
  } catch (e) {
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : e.message;
    throw new Error(`Could not reach ${url} (${why}). Is the push API running there, and does its ` +
      `push.corsOrigins include ${location.origin}?`);
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch { /* not JSON: shown as text */ }
  return { status: response.status, statusText: response.statusText, json, text };
}

/** An answer that is not a success, in one line: status · error code: message. */
export function refusal(answer) {
  return `${answer.status} · ${answer.json?.error || answer.statusText}: ${answer.json?.message || answer.text}`;
}

/** A result line (.line) showing a failure. */
export function showFailure(line, text) {
  line.className = 'line bad';
  line.textContent = text;
}
