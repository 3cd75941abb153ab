// A fake Switchboard gateway for the client's unit tests: a `ws` server on loopback that speaks
// enough of the switchboard.v1 protocol (docs/protocol.md) to drive the client through its
// failure paths, with hooks where a test plays a refusing or misbehaving server.

import { WebSocketServer, WebSocket } from 'ws';
import { once } from 'node:events';
import { after } from 'node:test';
import { SwitchboardClient } from '../../../../webroot/js/switchboard.js';

export { WebSocket };

// The client before its `WebSocket` option used the global: give it one so every test runs.
globalThis.WebSocket ??= WebSocket;

const SUBPROTOCOL = 'switchboard.v1';

// Servers a failed test left running would keep the test process alive.
const running = new Set();
after(async () => {
  for (const server of [...running]) await server.stop();
});

/**
 * A test file's way to make clients: for user alice, device d1, with the ws WebSocket and a fresh
 * MemoryStorage, then the file's `defaults` and the call's `options` (either may replace any of
 * these). Every client made is closed after the file's tests.
 */
export function clientMaker(defaults = {}) {
  const clients = [];
  after(() => {
    for (const c of clients) c.close();
  });
  return (server, options = {}) => {
    const client = new SwitchboardClient({
      url: server?.url, user: 'alice', device: 'd1', WebSocket, storage: new MemoryStorage(), ...defaults, ...options,
    });
    clients.push(client);
    return client;
  };
}

/** UTF-8 length of a string, as the server counts a body. */
export function utf8Bytes(s) {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * One fake gateway. Options mirror the server's limits; `hooks` let a test refuse connections
 * (`onConnect(conn) -> {code, message} | null`) or answer sends itself
 * (`onSend(frame, conn) -> frame to answer | null` to let the fake store it).
 */
export class FakeServer {
  constructor({
    maxBodyBytes = 65536, maxFrameBytes = 262144, rate = 50, burst = 100, maxSessions = 20, hooks = {},
    oversize = 'close', maxSignalBytes = 1024,
  } = {}) {
    this.limits = { maxBodyBytes, maxFrameBytes, rate, burst, maxSessions, maxSignalBytes };
    // How an oversized frame is answered: 'close' as the gateway does (1009 naming its limit),
    // 'close-unnamed' (1009 without the limit, as a proxy might), 'error' (an id-less too_large frame).
    this.oversize = oversize;
    this.hooks = hooks;
    this.inboxes = new Map();   // user -> [{msgId, seq, from, to, body, ts}]
    this.byId = new Map();      // `${user}|${id}` -> accepted frame (idempotency)
    this.conns = new Set();
    this.connections = [];      // every connection ever made, in order
    this.refusals = [];         // every error frame sent, {code, id}
    this.acceptedSends = [];    // stored sends, in order: {from, id, to, body}
    this.nextMsgId = 1;
  }

  async start() {
    this.wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      maxPayload: this.limits.maxFrameBytes * 4,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    await once(this.wss, 'listening');
    this.url = `ws://127.0.0.1:${this.wss.address().port}/ws`;
    this.wss.on('connection', (ws, req) => this._onConnection(ws, req));
    running.add(this);
    return this;
  }

  async stop() {
    if (!running.delete(this)) return;
    for (const c of this.connections) c.ws.terminate();
    await new Promise((resolve) => this.wss.close(resolve));
  }

  inbox(user) {
    if (!this.inboxes.has(user)) this.inboxes.set(user, []);
    return this.inboxes.get(user);
  }

  /** Stores a message for `to` as a push would, and delivers it to live sessions. */
  store(to, body, from = 'server', extra = {}) {
    const inbox = this.inbox(to);
    const m = { msgId: `m-${this.nextMsgId++}`, seq: inbox.length + 1, from, to, body, ts: Date.now(), ...extra };
    inbox.push(m);
    for (const c of this.conns) {
      if (c.user === to && c.synced) c.send({ type: 'message', ...m });
    }
    return m;
  }

  /** Forgets every inbox (a server whose data was wiped); seqs start again at 1. */
  wipe() {
    this.inboxes.clear();
    this.byId.clear();
  }

  /** Resolves with the next connection (made after this call). */
  nextConnection() {
    return new Promise((resolve) => {
      (this._waiters ??= []).push(resolve);
    });
  }

  /** Closes every open connection with `code`. */
  closeAll(code = 1012, reason = 'restart') {
    for (const c of [...this.conns]) c.close(code, reason);
  }

  _onConnection(ws, req) {
    const url = new URL(req.url, 'http://x');
    const protocols = (req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim());
    const tokenEntry = protocols.find((p) => p.startsWith('token.'));
    const conn = new FakeConn(this, ws, {
      user: url.searchParams.get('user'),
      device: url.searchParams.get('device'),
      since: url.searchParams.has('since') ? Number(url.searchParams.get('since')) : null,
      token: tokenEntry ? tokenEntry.slice('token.'.length) : null,
    });
    this.connections.push(conn);
    for (const w of this._waiters?.splice(0) ?? []) w(conn);
    const refusal = this.hooks.onConnect?.(conn)
      ?? ([...this.conns].filter((c) => c.user === conn.user).length >= this.limits.maxSessions
        ? { code: 'too_many_sessions', message: `user ${conn.user} already has ${this.limits.maxSessions} sessions` }
        : null);
    if (refusal) {
      conn.error(refusal.code, refusal.message);
      conn.close(1008, refusal.message);
      return;
    }
    this.conns.add(conn);
    ws.on('close', () => this.conns.delete(conn));
    ws.on('message', (data) => conn._onData(data));
    if (conn.device) conn.begin();
  }
}

export class FakeConn {
  constructor(server, ws, params) {
    this.server = server;
    this.ws = ws;
    Object.assign(this, params);
    this.frames = [];          // every parsed frame from the client
    this.synced = false;
    this.tokens = server.limits.burst;
    this.lastRefill = Date.now();
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    this._frameWaiters = [];
  }

  send(frame) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  error(code, message = code, id = undefined) {
    this.server.refusals.push({ code, id });
    this.send({ type: 'error', ...(id !== undefined ? { id } : {}), code, message });
  }

  close(code, reason) {
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }

  /** Resolves with the next frame from the client that satisfies `match` (a type or a predicate). */
  next(match) {
    const test = typeof match === 'function' ? match : (f) => f.type === match;
    const seen = this.frames.find((f) => !f._taken && test(f));
    if (seen) {
      seen._taken = true;
      return Promise.resolve(seen);
    }
    return new Promise((resolve) => this._frameWaiters.push({ test, resolve }));
  }

  begin() {
    const inbox = this.server.inbox(this.user);
    const since = this.since ?? 0;
    for (const m of inbox) {
      if (m.seq > since) this.send({ type: 'message', ...m });
    }
    this.synced = true;
    this.send({ type: 'synced', seq: inbox.length });
    this.server.hooks.onSynced?.(this);
  }

  _onData(data) {
    const text = data.toString('utf8');
    if (utf8Bytes(text) > this.server.limits.maxFrameBytes) {
      // The frame is refused before it is parsed, so no id is known.
      const max = this.server.limits.maxFrameBytes;
      if (this.server.oversize === 'error') {
        this.error('too_large', `message is larger than ${max} bytes`);
      } else {
        this.close(1009, this.server.oversize === 'close' ? `frame larger than ${max} bytes` : 'frame too large');
      }
      return;
    }
    const frame = JSON.parse(text);
    this.frames.push(frame);
    const waiter = this._frameWaiters.findIndex((w) => w.test(frame));
    if (waiter >= 0) {
      frame._taken = true;
      this._frameWaiters.splice(waiter, 1)[0].resolve(frame);
    }
    switch (frame.type) {
      case 'send': this._onSend(frame); break;
      case 'ping': this.send({ type: 'pong' }); break;
      case 'signal': {
        // Live sessions only, never stored, never answered (docs/protocol.md); refused as the gateway words it.
        const max = this.server.limits.maxSignalBytes;
        if (utf8Bytes(frame.kind) + (frame.data === undefined ? 0 : utf8Bytes(JSON.stringify(frame.data))) > max) {
          this.error('too_large', `a signal's kind and data may have at most ${max} bytes (limits.maxSignalBytes)`);
          break;
        }
        for (const c of this.server.conns) {
          if (c.user === frame.to && c.synced) c.send({ type: 'signal', from: this.user, kind: frame.kind, data: frame.data });
        }
        break;
      }
      case 'read':
        // Stored in the peer's inbox like a message, with a seq, as the gateway does.
        this.server.store(frame.peer, undefined, undefined, { type: 'read', by: this.user, upTo: frame.upTo });
        break;
      case 'mute': case 'muted': this._onMute(frame); break;
      case 'token': {
        const answer = this.server.hooks.onToken?.(frame, this);
        if (answer) this.send(answer);
        break;
      }
      default: break;
    }
  }

  /**
   * A mute sets, and a `muted` query reads, the user's setting for its peer, room or everyone,
   * answered with the frame's id; `hooks.onMute(frame, conn)` may answer (or, returning false,
   * not answer) instead.
   */
  _onMute(frame) {
    const own = this.server.hooks.onMute?.(frame, this);
    if (own === false) return;
    if (own) {
      this.send(own);
      return;
    }
    const mutes = (this.server.mutes ??= new Map());
    const key = `${this.user}|${frame.room != null ? 'room|' + frame.room : frame.peer ?? ''}`;
    if (frame.type === 'mute') mutes.set(key, frame.muted);
    const answer = { type: 'muted', id: frame.id };
    if (frame.peer != null) answer.peer = frame.peer;
    if (frame.room != null) answer.room = frame.room;
    this.send({ ...answer, muted: mutes.get(key) === true });
  }

  _takeToken() {
    const { rate, burst } = this.server.limits;
    const now = Date.now();
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  _onSend(frame) {
    const server = this.server;
    if (!this._takeToken()) {
      this.error('rate_limited', 'too many sends', frame.id);
      return;
    }
    const answer = server.hooks.onSend?.(frame, this);
    if (answer === 'drop') return; // a server that never answers this one
    if (answer) {
      if (answer.type === 'error') server.refusals.push({ code: answer.code, id: answer.id });
      this.send(answer);
      return;
    }
    if (utf8Bytes(frame.body) > server.limits.maxBodyBytes) {
      this.error('too_large', `body is larger than ${server.limits.maxBodyBytes} bytes`, frame.id);
      return;
    }
    const key = `${this.user}|${frame.id}`;
    const earlier = server.byId.get(key);
    if (earlier) {
      if (earlier.to !== frame.to || earlier.body !== frame.body) {
        this.error('id_reused', 'id used for another message', frame.id);
      } else {
        this.send({ ...earlier.answer, duplicate: true });
      }
      return;
    }
    const m = server.store(frame.to, frame.body, this.user);
    const answer2 = { type: 'accepted', id: frame.id, msgId: m.msgId, ts: m.ts, online: false };
    server.byId.set(key, { to: frame.to, body: frame.body, answer: answer2 });
    server.acceptedSends.push({ from: this.user, id: frame.id, to: frame.to, body: frame.body });
    this.send(answer2);
  }
}

/** A localStorage-like store in memory; `quota` (UTF-16 code units, as browsers count) makes setItem throw. */
export class MemoryStorage {
  constructor({ quota = Infinity } = {}) {
    this.map = new Map();
    this.quota = quota;
    this.writes = [];     // [{key, length}] of every successful setItem
    this.failures = 0;
  }

  get length() {
    return this.map.size;
  }

  key(i) {
    return [...this.map.keys()][i] ?? null;
  }

  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }

  used(except) {
    let n = 0;
    for (const [k, v] of this.map) if (k !== except) n += k.length + v.length;
    return n;
  }

  setItem(k, v) {
    const value = String(v);
    if (this.used(k) + k.length + value.length > this.quota) {
      this.failures += 1;
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    this.map.set(k, value);
    this.writes.push({ key: k, length: value.length });
  }

  removeItem(k) {
    this.map.delete(k);
  }

  clear() {
    this.map.clear();
  }
}

/** A base64url JSON segment, as in a JWT. */
function b64url(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

/** An unsigned JWT-shaped token: the fake server only looks at `sub`, `exp` and `jti`. */
export function fakeJwt(payload) {
  return `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}.c2ln`;
}

export function jwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** Resolves with the detail of the next `type` event of `client` that satisfies `match`. */
export function nextEvent(client, type, match = () => true, timeout = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${type} event within ${timeout} ms`));
    }, timeout);
    const listener = (event) => {
      if (match(event.detail)) {
        clearTimeout(timer);
        off();
        resolve(event.detail);
      }
    };
    const off = () => client.removeEventListener(type, listener);
    client.addEventListener(type, listener);
  });
}

/** Every `type` event's detail, as it happens. */
export function record(client, type) {
  const seen = [];
  client.addEventListener(type, (event) => seen.push(event.detail));
  return seen;
}

/** Rejects if `promise` has not settled within `ms`: a failing test ends instead of hanging. */
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

/** A deterministic random source (mulberry32), for back-off tests. */
export function seededRandom(seed = 1) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits until `check()` returns truthy, polling; for outcomes with no event of their own. */
export async function until(check, { timeout = 10_000, interval = 20, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${message}: still false after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * An in-process stand-in for navigator.locks (Web Locks, exclusive mode only): the callbacks
 * for one name run one at a time, in the order they asked, each holding the lock until the
 * promise it returned settles.
 */
export class FakeLocks {
  constructor() {
    this.queues = new Map();
  }

  request(name, callback) {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      const grant = async () => {
        try {
          resolve(await callback({ name, mode: 'exclusive' }));
        } catch (e) {
          reject(e);
        } finally {
          queue.shift();
          if (queue.length) queue[0]();
        }
      };
      queue.push(grant);
      if (queue.length === 1) grant();
    });
  }
}
