// Switchboard browser client for the `switchboard.v1` WebSocket protocol.
//
// One dependency-free ES module. What it adds on top of a bare WebSocket:
//  - reconnects by itself (exponential back-off with jitter, capped at 30 s);
//  - resumes after the last seq it processed, remembered in storage, so a reload
//    or a dropped connection neither loses nor repeats messages;
//  - acknowledges cumulatively (debounced) so the server's cursor follows along;
//  - drops duplicates by msgId and by seq;
//  - queues sends while offline and re-sends unconfirmed ones with the SAME id
//    after a reconnect (the server de-duplicates by id).
//
// See docs/client-js.md for usage and the exact guarantees.

const SUBPROTOCOL = 'switchboard.v1';
// Close codes this client uses itself, apart from the server's (4000 idle, 4001 token expired, 4002 rate limited).
const CLIENT_CONNECT_TIMEOUT = 4900;
const CLIENT_WRONG_PROTOCOL = 4901;

/** Connection states, in the order a client normally passes through them. */
export const State = Object.freeze({
  CONNECTING: 'connecting',
  OPEN: 'open',
  RECONNECTING: 'reconnecting',
  CLOSED: 'closed',
});

// Send errors that say nothing about the message itself: the server could not
// decide in time. Retrying with the same id is safe (the server de-duplicates),
// so these are retried instead of failing the send.
// 'overloaded': the node refused it, storing nothing, until it catches up on deliveries.
const TRANSIENT_SEND_ERRORS = new Set(['unavailable', 'internal', 'overloaded']);

// Close codes from the server. Everything except POLICY (1008) is retried.
const CLOSE_POLICY = 1008;

const DEFAULTS = Object.freeze({
  minReconnectDelay: 500,      // ms, first retry waits about this long
  maxReconnectDelay: 30000,    // ms, cap for the exponential back-off
  connectTimeout: 10000,       // ms, give up on a handshake that hangs
  ackDelay: 200,               // ms, acks are batched for at most this long...
  ackEvery: 50,                // ...or sent at once after this many new seqs
  pingInterval: 25000,         // ms of silence before the client pings
  pongTimeout: 10000,          // ms to wait for any frame after a ping
  maxSendAttempts: 5,          // tries per send when the server answers unavailable/internal/overloaded
  seenMsgIds: 2000,            // how many recent msgIds are remembered for de-duplication
  persistOutbox: true,         // keep unconfirmed sends in storage across reloads
  storagePrefix: 'switchboard',
  maxIdLength: 64,             // the server's limits.maxIdLength
});

/** An Error with a machine-readable `code` (the server's error code, or one of the client's own). */
export class SwitchboardError extends Error {
  constructor(code, message, extra = {}) {
    super(message || code);
    this.name = 'SwitchboardError';
    this.code = code;
    Object.assign(this, extra);
  }
}

/**
 * Client for one user on one device.
 *
 *   const client = new SwitchboardClient({ user: 'alice' });
 *   client.on('message', m => console.log(m.from, m.body));
 *   client.connect();
 *   await client.send('bob', 'hi');
 *
 * Events (EventTarget with CustomEvent, or `on(type, fn)` which passes `event.detail`):
 *   message  {msgId, seq, from, to, body, ts}  each new message, once, in seq order
 *   gap      {from, to}                        seqs removed by retention before this device got them
 *   synced   {seq}                             the stored backlog has been delivered
 *   state    {state, previous, code?, reason?, delay?, attempt?}
 *   accepted {id, msgId, ts, online, duplicate?, to, body}  a send is durably stored
 *   error    SwitchboardError (code, message, id? for a send that failed)
 *   authenticated {user, exp}                  the server took a token sent with refreshToken()
 */
export class SwitchboardClient extends EventTarget {
  constructor(options = {}) {
    super();
    const opts = { ...DEFAULTS, ...options };
    const problem = idProblem(opts.user, opts.maxIdLength);
    if (problem) {
      throw new TypeError(`user ${problem}`);
    }
    this.user = opts.user;
    this.options = opts;
    this.url = opts.url || defaultUrl();
    this._storage = safeStorage(opts.storage === undefined ? defaultStorage() : opts.storage);
    this.device = opts.device || this._rememberedDevice();
    if (typeof this.device !== 'string' || this.device.startsWith('~') || idProblem(this.device, opts.maxIdLength)) {
      throw new TypeError('device must be a valid id that does not start with ~');
    }

    this._state = State.CLOSED;
    this._started = false;      // connect() was called
    this._stopped = false;      // close() was called, or the server refused us
    this._conn = null;          // the current connection, see _open()
    this._attempt = 0;          // failed attempts since the last good sync, drives back-off
    this._retryTimer = null;
    this._retryAt = 0;
    this._ackTimer = null;
    this._seen = new Set();     // recent msgIds, insertion-ordered so the oldest can be evicted
    this._lastSeq = this._loadSeq();
    this._outbox = this._loadOutbox();

    // Browser hints: retry at once when the network or the tab comes back, and
    // flush the pending ack before the page goes away.
    this._onWake = () => this.retryNow();
    this._onPageHide = () => this._flushAck();
    this._onVisibility = () => {
      if (globalThis.document && globalThis.document.visibilityState === 'visible') {
        this._onWake();
      }
    };
  }

  /** The current state: 'connecting', 'open', 'reconnecting' or 'closed'. */
  get state() {
    return this._state;
  }

  /** The last seq this client processed (message or gap), or null before the first one. */
  get lastSeq() {
    return this._lastSeq;
  }

  /** Sends not yet accepted by the server, oldest first: [{id, to, body, createdAt}]. */
  get pending() {
    return this._outbox.map(({ id, to, body, createdAt }) => ({ id, to, body, createdAt }));
  }

  /** Subscribe to an event; the callback gets `event.detail`. Returns a function that unsubscribes. */
  on(type, callback) {
    const listener = (event) => callback(event.detail, event);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  /** Starts connecting (and keeps reconnecting until close()). Returns this. */
  connect() {
    if (this._stopped) {
      throw new SwitchboardError('closed', 'this client was closed; create a new one');
    }
    if (this._started) {
      return this;
    }
    this._started = true;
    addGlobalListener('online', this._onWake);
    addGlobalListener('pagehide', this._onPageHide);
    addDocumentListener('visibilitychange', this._onVisibility);
    this._setState(State.CONNECTING);
    this._open();
    return this;
  }

  /**
   * Stops for good: closes the socket and never reconnects. Unconfirmed sends reject with
   * code 'closed'; with `persistOutbox` they stay in storage (`error.queued === true`) and a
   * later client for the same user and device sends them.
   */
  close() {
    if (this._stopped) {
      return;
    }
    this._stopped = true;
    this._flushAck();
    this._clearRetry();
    removeGlobalListener('online', this._onWake);
    removeGlobalListener('pagehide', this._onPageHide);
    removeDocumentListener('visibilitychange', this._onVisibility);
    const conn = this._conn;
    if (conn) {
      this._detach(conn);
      try {
        conn.ws.close(1000, 'client closed');
      } catch {
        // already closing
      }
    }
    const queued = this.options.persistOutbox && !this._storage.volatile;
    for (const entry of this._outbox) {
      clearTimeout(entry.retryTimer);
      entry.retryTimer = null;
      entry.reject?.(new SwitchboardError('closed', 'client closed before the server accepted the message',
        { id: entry.id, queued }));
      entry.resolve = entry.reject = null;
    }
    if (!queued) {
      this._outbox = [];
      this._saveOutbox();
    }
    this._setState(State.CLOSED);
  }

  /**
   * Sends `body` to user `to`. Resolves with the server's accepted frame once the message is
   * durably stored; rejects with a SwitchboardError carrying `.code`. Works offline: the
   * message waits in the queue. The returned promise has an `id` property (the client id).
   * Pass `{id}` to choose the id yourself (1-128 characters, unique per message).
   */
  send(to, body, { id } = {}) {
    const entry = { id: id || randomId(), to, body: String(body ?? ''), createdAt: Date.now(), attempts: 0 };
    const promise = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    promise.id = entry.id;
    promise.catch(() => {}); // a caller that ignores the result should not see "unhandled rejection"
    if (this._stopped) {
      entry.reject(new SwitchboardError('closed', 'client is closed', { id: entry.id }));
      return promise;
    }
    const problem = idProblem(to, this.options.maxIdLength);
    if (problem || typeof entry.id !== 'string' || entry.id.length > 128) {
      entry.reject(new SwitchboardError(problem ? 'invalid_user' : 'invalid_field',
        problem ? `recipient ${problem}` : 'id must be 1..128 characters', { id: entry.id }));
      return promise;
    }
    if (this._outbox.some((e) => e.id === entry.id)) {
      entry.reject(new SwitchboardError('invalid_field', 'a send with this id is already queued', { id: entry.id }));
      return promise;
    }
    this._outbox.push(entry);
    this._saveOutbox();
    this._write(entry);
    return promise;
  }

  // ---------------------------------------------------------------------------------------
  // Connection lifecycle

  _open() {
    this._retryTimer = null;
    // A token function is asked again for every connection, so a reconnect after expiry (close
    // 4001) presents a fresh token.
    const token = this.options.token;
    if (typeof token === 'function') {
      Promise.resolve()
        .then(() => token())
        .then((fresh) => {
          if (!this._stopped && !this._conn) {
            this._openWith(fresh);
          }
        }, (e) => {
          this._emitError(new SwitchboardError('token', 'could not get a token: ' + (e && e.message)));
          this._scheduleRetry(0, 'no token');
        });
    } else {
      this._openWith(token);
    }
  }

  /**
   * Sends a fresh token for the open session (server `auth.mode` jwt), before the current one
   * expires; the server answers with an `authenticated` event, or an error with code invalid_token.
   */
  refreshToken(token) {
    if (typeof this.options.token !== 'function') {
      this.options.token = token;
    }
    if (this._conn && this._state === State.OPEN) {
      this._conn.ws.send(JSON.stringify({ type: 'token', token }));
    }
  }

  _openWith(token) {
    let ws;
    try {
      const url = new URL(this.url, globalThis.location?.href);
      url.searchParams.set('user', this.user);
      url.searchParams.set('device', this.device);
      // Without since the server resumes after the cursor stored by our acks; with it we resume
      // after what we actually processed, which is never behind the cursor.
      if (this._lastSeq !== null) {
        url.searchParams.set('since', String(this._lastSeq));
      } else {
        url.searchParams.delete('since');
      }
      // Browsers cannot set headers on a WebSocket: the token travels as a second subprotocol.
      ws = new WebSocket(url.toString(), token ? [SUBPROTOCOL, 'token.' + token] : SUBPROTOCOL);
    } catch (e) {
      // A malformed URL will not get better by retrying.
      this._emitError(new SwitchboardError('bad_url', `cannot open ${this.url}: ${e.message}`));
      this.close();
      return;
    }
    const conn = {
      ws,
      delivered: -1,    // highest seq the server has sent on this connection (acks must not exceed it)
      acked: -1,        // highest seq acked on this connection
      unacked: 0,       // seqs processed since the last ack
      synced: false,
      stash: [],        // backlog messages at or below our seq: kept in case the server's inbox was reset
      lastHeard: Date.now(),
      pingSentAt: 0,
      timer: null,
    };
    this._conn = conn;
    conn.openTimer = setTimeout(() => this._drop(conn, CLIENT_CONNECT_TIMEOUT, 'connect timeout'), this.options.connectTimeout);
    ws.onopen = () => this._onOpen(conn);
    ws.onmessage = (event) => this._onFrame(conn, event.data);
    ws.onclose = (event) => this._drop(conn, event.code, event.reason);
    ws.onerror = () => {}; // the close event that follows says what to do
  }

  _onOpen(conn) {
    clearTimeout(conn.openTimer);
    if (conn.ws.protocol !== SUBPROTOCOL) {
      // The server would speak the legacy text format: never talk to it.
      this._emitError(new SwitchboardError('unsupported', 'server does not speak ' + SUBPROTOCOL));
      this._drop(conn, CLIENT_WRONG_PROTOCOL, 'server did not accept subprotocol ' + SUBPROTOCOL);
      return;
    }
    conn.lastHeard = Date.now();
    conn.timer = setInterval(() => this._heartbeat(conn), Math.min(5000, this.options.pingInterval));
    this._setState(State.OPEN);
    // Everything not yet accepted goes out again, in the order it was queued, with its old id.
    for (const entry of this._outbox) {
      this._write(entry);
    }
  }

  /** Ends `conn` (closed by the server, the network, or us) and decides whether to come back. */
  _drop(conn, code, reason) {
    if (conn !== this._conn) {
      return; // an old connection we already gave up on
    }
    this._detach(conn);
    try {
      conn.ws.close(code >= 3000 && code < 5000 ? code : 1000, reason ? String(reason).slice(0, 120) : undefined);
    } catch {
      // already closed
    }
    if (this._stopped) {
      this._setState(State.CLOSED, { code, reason });
      return;
    }
    if (code === CLOSE_POLICY) {
      // Refused (bad user id): retrying unchanged would be refused again.
      this._stopped = true;
      const error = new SwitchboardError('refused', reason || 'the server refused the connection', { closeCode: code });
      for (const entry of this._outbox) {
        entry.reject?.(new SwitchboardError('refused', error.message, { id: entry.id }));
      }
      this._outbox = [];
      this._saveOutbox();
      this._emitError(error);
      this._setState(State.CLOSED, { code, reason });
      return;
    }
    this._scheduleRetry(code, reason);
  }

  /** Stops listening to a connection's events and timers; the socket itself is left to the caller. */
  _detach(conn) {
    clearTimeout(conn.openTimer);
    clearInterval(conn.timer);
    conn.ws.onopen = conn.ws.onmessage = conn.ws.onclose = conn.ws.onerror = null;
    if (this._conn === conn) {
      this._conn = null;
    }
    clearTimeout(this._ackTimer);
    this._ackTimer = null;
  }

  _scheduleRetry(code, reason) {
    // "Equal jitter": half the back-off is fixed, half random, so a server restart does not
    // bring every client back in the same millisecond, yet nobody retries at once forever.
    const { minReconnectDelay: min, maxReconnectDelay: max } = this.options;
    const base = Math.min(max, min * 2 ** Math.min(this._attempt, 20));
    const delay = Math.round(base / 2 + Math.random() * base / 2);
    this._attempt += 1;
    this._retryAt = Date.now() + delay;
    this._retryTimer = setTimeout(() => this._open(), delay);
    this._setState(State.RECONNECTING, { code, reason, delay, attempt: this._attempt });
  }

  /** While reconnecting: skip the rest of the back-off wait and try now. */
  retryNow() {
    if (this._retryTimer && !this._stopped) {
      this._clearRetry();
      this._open();
    }
  }

  _clearRetry() {
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
  }

  /** Pings when the line has been quiet, and gives up on a connection that stopped answering. */
  _heartbeat(conn) {
    const now = Date.now();
    if (conn.pingSentAt && now - conn.pingSentAt > this.options.pongTimeout) {
      // A half-open TCP connection can look open for minutes; don't wait for the OS to notice.
      this._drop(conn, 4003, 'no answer to ping');
    } else if (!conn.pingSentAt && now - conn.lastHeard >= this.options.pingInterval) {
      conn.pingSentAt = now;
      this._raw(conn, { type: 'ping' });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Incoming frames

  _onFrame(conn, data) {
    if (conn !== this._conn) {
      return;
    }
    conn.lastHeard = Date.now();
    conn.pingSentAt = 0; // any frame proves the connection is alive
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      this._emitError(new SwitchboardError('bad_frame', 'server sent a frame that is not JSON'));
      return;
    }
    switch (frame?.type) {
      case 'message': this._onMessage(conn, frame); break;
      case 'gap': this._onGap(conn, frame); break;
      case 'synced': this._onSynced(conn, frame); break;
      case 'accepted': this._onAccepted(frame); break;
      case 'error': this._onServerError(frame); break;
      case 'authenticated': this._emit('authenticated', { user: frame.user, exp: frame.exp }); break;
      case 'pong': break;
      default: break; // newer server, unknown frame: ignore
    }
  }

  _onMessage(conn, m) {
    const seq = m.seq;
    if (!Number.isSafeInteger(seq)) {
      return;
    }
    conn.delivered = Math.max(conn.delivered, seq);
    if (this._lastSeq !== null && seq <= this._lastSeq) {
      // Already processed. The server never sends these after `since`, so one showing up
      // before `synced` means the server's inbox may have been reset: keep it until synced says.
      if (!conn.synced && !this._seen.has(m.msgId) && conn.stash.length < 10000) {
        conn.stash.push(m);
      }
      return;
    }
    this._accept(m);
  }

  /** Emits a message we have not seen, then records its seq as processed. */
  _accept(m) {
    const duplicate = m.msgId != null && this._seen.has(m.msgId);
    if (!duplicate) {
      this._remember(m.msgId);
      this._emit('message', {
        msgId: m.msgId, seq: m.seq, from: m.from, to: m.to, body: m.body, ts: m.ts,
      });
    }
    // Recorded after the listeners ran: if the page dies in between, the message comes again
    // (and the page's own msgId check can drop it) rather than never.
    this._setSeq(m.seq);
    this._scheduleAck();
  }

  _onGap(conn, gap) {
    if (!Number.isSafeInteger(gap.to)) {
      return;
    }
    conn.delivered = Math.max(conn.delivered, gap.to);
    if (this._lastSeq !== null && gap.to <= this._lastSeq) {
      return;
    }
    const from = this._lastSeq === null ? gap.from : Math.max(gap.from, this._lastSeq + 1);
    this._emit('gap', { from, to: gap.to });
    this._setSeq(gap.to);
    this._scheduleAck();
  }

  _onSynced(conn, frame) {
    const seq = frame.seq;
    conn.synced = true;
    if (Number.isSafeInteger(seq)) {
      conn.delivered = Math.max(conn.delivered, seq);
      if (this._lastSeq !== null && seq < this._lastSeq) {
        // The server's inbox ends before what we processed: it was reset (data removed).
        // Start over from its numbering, or everything new would look old and be dropped.
        const stash = conn.stash.sort((a, b) => a.seq - b.seq);
        this._emitError(new SwitchboardError('cursor_reset',
          `server inbox ends at seq ${seq}, this device had ${this._lastSeq}; continuing from the server's numbering`));
        this._setSeq(stash.length ? Math.min(seq, stash[0].seq - 1) : seq, true);
        for (const m of stash) {
          if (m.seq > this._lastSeq) {
            this._accept(m);
          }
        }
        if (this._lastSeq < seq) {
          this._setSeq(seq, true);
        }
      }
    }
    if (this._lastSeq === null && Number.isSafeInteger(seq)) {
      this._setSeq(seq); // a new device caught up: resume from here next time
    }
    conn.stash = [];
    this._attempt = 0; // a full sync proves the server works: back-off starts over
    this._emit('synced', { seq: Number.isSafeInteger(seq) ? seq : this._lastSeq });
    this._scheduleAck(true);
  }

  _onAccepted(frame) {
    const index = this._outbox.findIndex((e) => e.id === frame.id);
    if (index < 0) {
      return; // a retry of something already settled
    }
    const [entry] = this._outbox.splice(index, 1);
    this._saveOutbox();
    const detail = { ...frame, to: entry.to, body: entry.body };
    delete detail.type;
    entry.resolve?.(detail);
    this._emit('accepted', detail);
  }

  _onServerError(frame) {
    const error = new SwitchboardError(frame.code || 'internal', frame.message, frame.id != null ? { id: frame.id } : {});
    const entry = frame.id != null ? this._outbox.find((e) => e.id === frame.id) : null;
    if (!entry) {
      this._emitError(error);
      return;
    }
    if (TRANSIENT_SEND_ERRORS.has(error.code) && entry.attempts + 1 < this.options.maxSendAttempts) {
      // The server could not tell whether it stored it: ask again with the same id later.
      entry.attempts += 1;
      const delay = Math.min(this.options.maxReconnectDelay, this.options.minReconnectDelay * 2 ** entry.attempts);
      entry.retryTimer = setTimeout(() => {
        entry.retryTimer = null;
        entry.sentOn = null;
        this._write(entry);
      }, delay);
      return;
    }
    this._outbox.splice(this._outbox.indexOf(entry), 1);
    this._saveOutbox();
    entry.reject?.(error);
    this._emitError(error);
  }

  // ---------------------------------------------------------------------------------------
  // Outgoing frames

  /** Writes a queued send on the current connection, once per connection. */
  _write(entry) {
    const conn = this._conn;
    if (!conn || conn.ws.readyState !== 1 /* OPEN */ || entry.sentOn === conn || entry.retryTimer) {
      return; // sent when the next connection opens
    }
    entry.sentOn = conn;
    this._raw(conn, { type: 'send', id: entry.id, to: entry.to, body: entry.body });
  }

  _raw(conn, frame) {
    try {
      conn.ws.send(JSON.stringify(frame));
    } catch {
      // The socket is closing; its close event will follow.
    }
  }

  /** Acks soon; at once when many seqs are waiting or `now` is set. */
  _scheduleAck(now = false) {
    const conn = this._conn;
    if (!conn || this._lastSeq === null || this._lastSeq <= conn.acked) {
      return;
    }
    conn.unacked += 1;
    if (now || conn.unacked >= this.options.ackEvery) {
      this._flushAck();
    } else if (!this._ackTimer) {
      this._ackTimer = setTimeout(() => this._flushAck(), this.options.ackDelay);
    }
  }

  _flushAck() {
    clearTimeout(this._ackTimer);
    this._ackTimer = null;
    const conn = this._conn;
    const seq = this._lastSeq;
    // The server refuses acks beyond what it sent on this connection (invalid_ack).
    if (!conn || seq === null || conn.ws.readyState !== 1 || seq <= conn.acked || seq > conn.delivered) {
      return;
    }
    conn.acked = seq;
    conn.unacked = 0;
    this._raw(conn, { type: 'ack', seq });
  }

  // ---------------------------------------------------------------------------------------
  // State, events, storage

  _setState(state, extra = {}) {
    const previous = this._state;
    if (previous === state && state !== State.RECONNECTING) {
      return;
    }
    this._state = state;
    this._emit('state', { state, previous, ...extra });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _emitError(error) {
    this._emit('error', error);
  }

  _remember(msgId) {
    if (msgId == null) {
      return;
    }
    this._seen.add(msgId);
    if (this._seen.size > this.options.seenMsgIds) {
      this._seen.delete(this._seen.values().next().value);
    }
  }

  _key(kind, withDevice = true) {
    const parts = [this.options.storagePrefix, kind, encodeURIComponent(this.user)];
    if (withDevice) {
      parts.push(encodeURIComponent(this.device));
    }
    return parts.join(':');
  }

  _rememberedDevice() {
    const key = this._key('device', false);
    let device = this._storage.get(key);
    if (!device || idProblem(device) || device.startsWith('~')) {
      device = 'web-' + randomId().slice(0, 12);
      this._storage.set(key, device);
    }
    return device;
  }

  _loadSeq() {
    const stored = this._storage.get(this._key('seq'));
    const value = Number(stored);
    return stored !== null && stored !== '' && Number.isSafeInteger(value) && value >= 0 ? value : null;
  }

  _setSeq(seq, force = false) {
    if (force || this._lastSeq === null || seq > this._lastSeq) {
      this._lastSeq = seq;
      this._storage.set(this._key('seq'), String(seq));
    }
  }

  _loadOutbox() {
    if (!this.options.persistOutbox) {
      return [];
    }
    try {
      const list = JSON.parse(this._storage.get(this._key('outbox')) || '[]');
      return Array.isArray(list)
        ? list.filter((e) => e && typeof e.id === 'string' && typeof e.to === 'string' && typeof e.body === 'string')
          .map((e) => ({ id: e.id, to: e.to, body: e.body, createdAt: e.createdAt || Date.now(), attempts: 0 }))
        : [];
    } catch {
      return [];
    }
  }

  _saveOutbox() {
    if (!this.options.persistOutbox) {
      return;
    }
    const key = this._key('outbox');
    if (this._outbox.length === 0) {
      this._storage.remove(key);
    } else {
      this._storage.set(key, JSON.stringify(this._outbox.map(({ id, to, body, createdAt }) => ({ id, to, body, createdAt }))));
    }
  }
}

// -----------------------------------------------------------------------------------------
// Helpers

/** Why `id` is not a valid user id (the server's rule), or null when it is. */
export function idProblem(id, maxLength = 64) {
  if (typeof id !== 'string' || id.length === 0) {
    return 'is empty';
  }
  if ([...id].length > maxLength) {
    return `is longer than ${maxLength} characters`;
  }
  if (/[\s|\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}]/u.test(id)) {
    return 'contains whitespace, control characters or |';
  }
  return null;
}

/** A random id, from the secure generator even outside secure contexts. */
export function randomId() {
  const c = globalThis.crypto;
  if (c?.randomUUID) {
    try {
      return c.randomUUID();
    } catch {
      // not a secure context
    }
  }
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) {
    c.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function defaultUrl() {
  const loc = globalThis.location;
  if (!loc || !/^https?:$/.test(loc.protocol)) {
    return 'ws://127.0.0.1:8080/ws';
  }
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

function defaultStorage() {
  try {
    const s = globalThis.localStorage;
    s.getItem('switchboard:probe');
    return s;
  } catch {
    return null; // blocked (privacy settings, sandboxed frame): fall back to memory
  }
}

/** Wraps a Storage-like object so quota errors and blocked storage never break messaging. */
function safeStorage(storage) {
  if (!storage) {
    const memory = new Map();
    return {
      volatile: true,
      get: (k) => (memory.has(k) ? memory.get(k) : null),
      set: (k, v) => memory.set(k, String(v)),
      remove: (k) => memory.delete(k),
    };
  }
  return {
    volatile: false,
    get(k) {
      try { return storage.getItem(k); } catch { return null; }
    },
    set(k, v) {
      try { storage.setItem(k, String(v)); } catch { /* full or blocked: this session still works */ }
    },
    remove(k) {
      try { storage.removeItem(k); } catch { /* ignore */ }
    },
  };
}

function addGlobalListener(type, fn) {
  globalThis.addEventListener?.(type, fn);
}

function removeGlobalListener(type, fn) {
  globalThis.removeEventListener?.(type, fn);
}

function addDocumentListener(type, fn) {
  globalThis.document?.addEventListener(type, fn);
}

function removeDocumentListener(type, fn) {
  globalThis.document?.removeEventListener(type, fn);
}
