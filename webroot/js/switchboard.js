// Switchboard browser client for the `switchboard.v1` WebSocket protocol.
//
// One dependency-free ES module (it also runs in Node, given a `WebSocket` constructor). On top
// of a bare WebSocket it:
//  - reconnects by itself, with full-jitter back-off that only resets after a connection has
//    stayed up a while, and a wide first wait after a server restart (close 1012);
//  - resumes after the last seq it processed, so a reload or a dropped connection neither loses
//    nor repeats messages, and starts over from seq 0 when the server's inbox was reset;
//  - acknowledges cumulatively (debounced) so the server's cursor follows along;
//  - queues sends in a stored outbox (one storage record per send) that one tab at a time owns,
//    paces them below the server's rate limit, re-sends unconfirmed ones with the SAME id, and
//    drops a queued send only when the server's answer is final for it;
//  - renews its token ahead of the token's own expiry;
//  - keeps mute settings and mute queries until the server answers them, across reconnects.
//
// See docs/client-js.md for usage, the states and events, and what each refusal does.

export const VERSION = '2.4.0';

const SUBPROTOCOL = 'switchboard.v1';
// Close codes this client uses itself, apart from the server's (4000 idle, 4001 token expired, 4002 rate limited).
const CLIENT_CONNECT_TIMEOUT = 4900;
const CLIENT_WRONG_PROTOCOL = 4901;
const CLIENT_NO_PONG = 4003;
const CLIENT_CURSOR_RESET = 4904;

const CLOSE_POLICY = 1008;
const CLOSE_TOO_BIG = 1009;
const CLOSE_RESTART = 1012;
const CLOSE_TOKEN_EXPIRED = 4001;

/** Connection states. */
export const State = Object.freeze({
  CLOSED: 'closed',
  CONNECTING: 'connecting',
  OPEN: 'open',
  RECONNECTING: 'reconnecting',
});

/**
 * Every allowed state change. `reconnecting` may follow itself: a second wait (a token that is
 * still missing) is announced again with its own reason.
 */
export const TRANSITIONS = Object.freeze({
  closed: Object.freeze(['connecting']),
  connecting: Object.freeze(['open', 'reconnecting', 'closed']),
  open: Object.freeze(['reconnecting', 'closed']),
  reconnecting: Object.freeze(['connecting', 'reconnecting', 'closed']),
});

// What a server error naming a send means for that send. Anything not listed is final: the same
// frame would be refused again (id_reused, inbox_full, too_large, invalid_*, missing_field, ...).
// The server could not decide in time: the same id is tried again later (the server de-duplicates).
const RETRY_SEND_ERRORS = new Set(['unavailable', 'internal', 'overloaded']);
// Nothing is wrong with the send, it came too fast: it waits its turn again.
const WAIT_SEND_ERRORS = new Set(['rate_limited']);

const DEFAULTS = Object.freeze({
  minReconnectDelay: 500,      // ms, the first back-off window
  maxReconnectDelay: 30000,    // ms, the largest back-off window
  restartDelay: 10000,         // ms, the window the first retry after close 1012 is spread over
  sessionLimitDelay: 15000,    // ms, the least wait after too_many_sessions
  minUptime: 10000,            // ms a synced connection must last before the back-off starts over
  connectTimeout: 10000,       // ms, give up on a handshake that hangs
  ackDelay: 200,               // ms, acks are batched for at most this long...
  ackEvery: 50,                // ...or sent at once after this many new seqs
  pingInterval: 25000,         // ms of silence before the client pings
  pongTimeout: 10000,          // ms to wait for any frame after a ping
  sendRate: 40,                // sends per second, below the server's limits.messagesPerSecond
  sendBurst: 50,               // sends at once on a fresh connection, below limits.messageBurst
  sendRetryDelay: 1000,        // ms, the first window for a send answered unavailable/internal/overloaded
  maxBodyBytes: 65536,         // the server's limits.maxBodyBytes (UTF-8 bytes)
  maxFrameBytes: 262144,       // the server's gateway.maxFrameBytes
  maxQueued: 1000,             // sends the outbox holds at most
  maxQueuedBytes: 4 * 1024 * 1024, // UTF-8 bytes of bodies the outbox holds at most
  maxAge: 290000,              // ms after its first write a send is given up (below inbox.idempotencyWindowSeconds)
  maxQueueAge: 86400000,       // ms after send() a never-accepted send is given up
  sweepInterval: 1000,         // ms between checks for expired sends
  tokenRenewBefore: 60000,     // ms before a token's exp a fresh one is fetched
  seenMsgIds: 2000,            // how many recent msgIds are remembered for de-duplication
  persistOutbox: true,         // keep unconfirmed sends in storage across reloads
  storagePrefix: 'switchboard',
  maxIdLength: 64,             // the server's limits.maxIdLength
  maxSignalBytes: 1024,        // the server's limits.maxSignalBytes (kind plus encoded data)
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
 * Client for one user on one device. See docs/client-js.md.
 *
 *   const client = new SwitchboardClient({ user: 'alice' });
 *   client.on('message', m => console.log(m.from, m.body));
 *   client.connect();
 *   await client.send('bob', 'hi');
 */
export class SwitchboardClient extends EventTarget {
  constructor(options = {}) {
    super();
    // Events raised while constructing (a stored send that cannot go, a storage failure) wait
    // for the listeners the page adds right after `new`.
    this._constructing = true;
    const opts = { ...DEFAULTS, ...options };
    const problem = idProblem(opts.user, opts.maxIdLength);
    if (problem) {
      throw new TypeError(`user ${problem}`);
    }
    this.user = opts.user;
    this.options = opts;
    this.url = opts.url || defaultUrl();
    this._WebSocket = opts.WebSocket || globalThis.WebSocket;
    this._random = opts.random || Math.random;
    this._now = opts.now || Date.now;
    this._storage = safeStorage(opts.storage === undefined ? defaultStorage() : opts.storage,
      (op, key, error) => this._emit('storage', { op, key, id: idOfKey(key, this._outboxPrefix()), error }));
    this.device = opts.device || this._rememberedDevice();
    if (typeof this.device !== 'string' || this.device.startsWith('~') || idProblem(this.device, opts.maxIdLength)) {
      throw new TypeError('device must be a valid id that does not start with ~');
    }
    this._maxFrameBytes = opts.maxFrameBytes;

    this._state = State.CLOSED;
    this._started = false;      // connect() was called and not undone by disconnect()
    this._stopped = false;      // close() was called: for good
    this._conn = null;          // the current connection, see _openWith()
    this._attempt = 0;          // failed attempts since a connection last lasted minUptime
    this._retryTimer = null;
    this._waitingForToken = false;
    this._ackTimer = null;
    this._pumpTimer = null;
    this._sweepTimer = null;
    this._renewTimer = null;
    this._renewAttempt = 0;
    this._token = typeof opts.token === 'string' ? opts.token : null;
    this._readyWaiters = [];
    this._seen = new Set();     // recent msgIds, insertion-ordered so the oldest can be evicted
    // Reads of a peer's or a room's messages, keyed "peer:<id>" or "room:<id>": the newest marked
    // while no connection was open, and the last sent on this connection, so repeats cost nothing.
    this._readsToSend = new Map(); // key -> {field, id, msgId}
    this._readsSent = new Map();   // key -> msgId
    this._mutes = new Map();       // id -> mute or mute query not answered yet, in the order made (see mute())
    const cursor = this._loadCursor();
    this._lastSeq = cursor.seq;
    this._epoch = cursor.epoch;
    this._outbox = new Map();   // id -> entry, in the order the sends were made
    this._queuedBytes = 0;
    this._bucket = { tokens: opts.sendBurst, at: this._now(), rate: opts.sendRate };
    this._restoreOutbox();
    this._setupTabs();
    this._constructing = false;

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

  /** The current state: 'closed', 'connecting', 'open' or 'reconnecting'. */
  get state() {
    return this._state;
  }

  /** Whether the current connection has delivered the stored backlog. */
  get synced() {
    return Boolean(this._conn?.synced);
  }

  /** The last seq this tab processed (message or gap), or null before the first one. */
  get lastSeq() {
    return this._lastSeq;
  }

  /** Sends not yet accepted by the server (this tab's and, with tabs coordinated, the others'), oldest first. */
  get pending() {
    return [...this._outbox.values()]
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(({ id, to, room, body, createdAt, receipt }) => {
        const shown = room != null ? { id, room, body, createdAt } : { id, to, body, createdAt };
        if (receipt) shown.receipt = true;
        return shown;
      });
  }

  /** Subscribe to an event; the callback gets `event.detail`. Returns a function that unsubscribes. */
  on(type, callback) {
    const listener = (event) => callback(event.detail, event);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  /** Starts connecting (and keeps reconnecting until disconnect() or close()). Returns this. */
  connect() {
    if (this._stopped) {
      throw new SwitchboardError('closed', 'this client was closed; create a new one, or use disconnect()');
    }
    if (this._started) {
      return this;
    }
    this._started = true;
    this._attempt = 0;
    addGlobalListener('online', this._onWake);
    addGlobalListener('pagehide', this._onPageHide);
    addDocumentListener('visibilitychange', this._onVisibility);
    this._sweepTimer = setInterval(() => this._sweep(), this.options.sweepInterval);
    this._claimOutbox();
    this._setState(State.CONNECTING);
    this._open();
    return this;
  }

  /**
   * Closes the connection and stops reconnecting, keeping everything else: queued sends stay
   * queued (their promises pending) and go out after the next connect().
   */
  disconnect() {
    this._halt(1000, 'disconnect()');
  }

  /** Stops connecting; the `closed` state event carries why. */
  _halt(code, reason) {
    if (!this._started) {
      return;
    }
    this._started = false;
    this._waitingForToken = false;
    this._flushAck();
    this._clearRetry();
    clearInterval(this._sweepTimer);
    clearTimeout(this._pumpTimer);
    clearTimeout(this._renewTimer);
    this._sweepTimer = this._pumpTimer = this._renewTimer = null;
    removeGlobalListener('online', this._onWake);
    removeGlobalListener('pagehide', this._onPageHide);
    removeDocumentListener('visibilitychange', this._onVisibility);
    this._releaseOutbox();
    for (const entry of this._outbox.values()) {
      clearTimeout(entry.retryTimer);
      entry.retryTimer = null;
      entry.sentOn = null;
    }
    const conn = this._conn;
    if (conn) {
      this._detach(conn);
      try {
        conn.ws.close(1000, 'client disconnected');
      } catch {
        // already closing
      }
    }
    this._setState(State.CLOSED, { code, reason });
  }

  /**
   * Stops for good. Unconfirmed sends reject with code 'closed'; with a persistent outbox they
   * stay in storage (`error.queued === true`) and another client for the same user and device
   * (another tab, or the next page) sends them.
   */
  close() {
    if (this._stopped) {
      return;
    }
    this.disconnect();
    this._stopped = true;
    this._channel?.close();
    this._channel = null;
    const queued = this._persistent();
    for (const entry of this._outbox.values()) {
      this._settle(entry, null, new SwitchboardError('closed', 'client closed before the server accepted the message',
        { id: entry.id, queued: queued && entry.persisted }));
    }
    if (!queued) {
      this._outbox.clear();
    }
    for (const waiter of this._readyWaiters.splice(0)) {
      waiter.reject(new SwitchboardError('closed', 'client closed'));
    }
    this._closeMutes();
  }

  /** Resolves with {seq} once the current or next connection has delivered the stored backlog. */
  ready() {
    if (this._conn?.synced) {
      return Promise.resolve({ seq: this._lastSeq });
    }
    if (this._stopped) {
      return Promise.reject(new SwitchboardError('closed', 'client closed'));
    }
    return new Promise((resolve, reject) => this._readyWaiters.push({ resolve, reject }));
  }

  /**
   * Sends `body` (a string) to user `to`. Resolves with the server's accepted frame once the
   * message is durably stored; rejects with a SwitchboardError carrying `.code` when the send
   * cannot be delivered. Works offline: the message waits in the outbox. The returned promise
   * has an `id` property (the client id). Pass `{id}` to choose the id yourself, and
   * `{receipt: true}` to get a 'delivered' event once a device of `to` has received it.
   */
  send(to, body, { id, receipt } = {}) {
    const entry = { id: id || randomId(), to, body, createdAt: this._now(), own: true };
    if (receipt === true) {
      entry.receipt = true;
    }
    return this._queue(entry);
  }

  /**
   * Sends `body` to every member of `room` (this user must be one), with the guarantees of
   * `send()`: queued offline, retried with the same id, settled once. Resolves with the accepted
   * frame, which carries `room`, `roomSeq` and the one `msgId` every member's copy has. Pass
   * `{receipt: true}` to get a 'delivered' event (with `room`) from each other member whose device
   * received it; a room above the server's limits.roomReceiptMembers refuses it with room_too_big.
   */
  sendToRoom(room, body, { id, receipt } = {}) {
    const entry = { id: id || randomId(), room, body, createdAt: this._now(), own: true };
    if (receipt === true) {
      entry.receipt = true;
    }
    return this._queue(entry);
  }

  _queue(entry) {
    const promise = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    promise.id = entry.id;
    promise.catch(() => {}); // a caller that ignores the result should not see "unhandled rejection"
    const refuse = (code, message) => {
      entry.reject(new SwitchboardError(code, message, { id: entry.id }));
      return promise;
    };
    if (this._stopped) {
      return refuse('closed', 'client is closed');
    }
    const problem = idProblem(entry.room ?? entry.to, this.options.maxIdLength);
    if (problem) {
      return refuse(entry.room != null ? 'invalid_field' : 'invalid_user', `${entry.room != null ? 'room' : 'recipient'} ${problem}`);
    }
    const body = entry.body;
    if (typeof entry.id !== 'string' || entry.id.length === 0 || entry.id.length > 128) {
      return refuse('invalid_field', 'id must be 1..128 characters');
    }
    if (typeof body !== 'string') {
      return refuse('invalid_field', 'body must be a string');
    }
    const tooLarge = this._sizeProblem(entry);
    if (tooLarge) {
      return refuse('too_large', tooLarge);
    }
    if (this._outbox.has(entry.id)) {
      return refuse('invalid_field', 'a send with this id is already queued');
    }
    if (this._outbox.size >= this.options.maxQueued || this._queuedBytes + entry.bytes > this.options.maxQueuedBytes) {
      return refuse('queue_full', `the outbox holds ${this._outbox.size} sends (${this._queuedBytes} bytes): wait for some to be accepted`);
    }
    this._add(entry);
    entry.persisted = this._saveEntry(entry);
    this._tell({ type: 'queued', entry: recordOf(entry), persisted: entry.persisted });
    this._pump();
    return promise;
  }

  /**
   * Sends an ephemeral signal (such as 'typing') to every live session of `to`: not stored, not
   * answered. Returns whether it went out; without an open connection it is dropped (false), as
   * the server drops signals it cannot deliver at once.
   */
  signal(to, kind, data) {
    const problem = idProblem(to, this.options.maxIdLength);
    if (problem) {
      throw new TypeError(`to ${problem}`);
    }
    if (typeof kind !== 'string' || idProblem(kind, 32)) {
      throw new TypeError('kind must be a string of 1..32 characters without whitespace or |');
    }
    if (data !== undefined && (data === null || typeof data !== 'object' || Array.isArray(data))) {
      throw new TypeError('data must be a plain object');
    }
    const size = utf8Length(kind) + (data === undefined ? 0 : utf8Length(JSON.stringify(data)));
    if (size > this.options.maxSignalBytes) {
      throw new SwitchboardError('too_large', `signal is larger than ${this.options.maxSignalBytes} bytes`);
    }
    const conn = this._conn;
    if (!conn || conn.ws.readyState !== 1 || this._state !== State.OPEN) {
      return false;
    }
    this._raw(conn, data === undefined ? { type: 'signal', to, kind } : { type: 'signal', to, kind, data });
    return true;
  }

  /**
   * Tells `peer` that this user has read their messages up to `msgId` (a message from `peer`).
   * Sent at once, or, without a connection, when the next one opens (only the newest per peer).
   * Marking the same message again sends nothing.
   */
  markRead(peer, msgId) {
    this._markRead('peer', peer, msgId, 'msgId must be the msgId of a message from peer');
  }

  /**
   * Tells the other members of `room` that this user has read the room's messages up to `msgId`
   * (a message of the room). Sent like markRead(): at once, or when the next connection opens
   * (only the newest per room); the same message again sends nothing. A refusal (not_a_member,
   * room_too_big) comes as an 'error' event.
   */
  readRoom(room, msgId) {
    this._markRead('room', room, msgId, 'msgId must be the msgId of a message of the room');
  }

  _markRead(field, id, msgId, msgIdMeaning) {
    const problem = idProblem(id, this.options.maxIdLength);
    if (problem) {
      throw new TypeError(`${field} ${problem}`);
    }
    if (typeof msgId !== 'string' || idProblem(msgId, this.options.maxIdLength)) {
      throw new TypeError(msgIdMeaning);
    }
    const conn = this._conn;
    if (conn && conn.ws.readyState === 1 && this._state === State.OPEN) {
      this._sendRead(conn, field, id, msgId);
    } else {
      this._readsToSend.set(`${field}:${id}`, { field, id, msgId });
    }
  }

  _sendRead(conn, field, id, msgId) {
    const key = `${field}:${id}`;
    if (this._readsSent.get(key) === msgId) {
      return;
    }
    this._readsSent.set(key, msgId);
    this._raw(conn, { type: 'read', [field]: id, upTo: msgId });
  }

  // ---------------------------------------------------------------------------------------
  // Rooms

  /** Creates `room`; this user becomes its owner and first member. Resolves with {room, roomSeq}. */
  createRoom(room) {
    return this._roomRequest({ type: 'createRoom', room });
  }

  /** Adds `user` to `room` (the owner only). Resolves with {room, roomSeq}. */
  addMember(room, user) {
    return this._roomRequest({ type: 'addMember', room, user });
  }

  /** Removes `user` from `room` (the owner, or the member itself). Resolves with {room, roomSeq}. */
  removeMember(room, user) {
    return this._roomRequest({ type: 'removeMember', room, user });
  }

  /** Leaves `room`: removes this user. */
  leaveRoom(room) {
    return this.removeMember(room, this.user);
  }

  /** Resolves with {room, owner, roomSeq, members} (members only). */
  members(room) {
    return this._roomRequest({ type: 'members', room });
  }

  /** Resolves with the ids of the rooms this user is a member of, sorted. */
  rooms() {
    return this._roomRequest({ type: 'rooms' }).then((answer) => answer.rooms);
  }

  /**
   * Sends a room request once the connection is open and synced, and settles with its answer (by
   * id) or a SwitchboardError. Not queued across connections: a request whose connection drops
   * before the answer is rejected with `unavailable`, and may be asked again (adding a member
   * twice changes nothing).
   */
  _roomRequest(frame) {
    for (const field of ['room', 'user']) {
      if (field in frame) {
        const problem = idProblem(frame[field], this.options.maxIdLength);
        if (problem) {
          return Promise.reject(new SwitchboardError(field === 'user' ? 'invalid_user' : 'invalid_field', `${field} ${problem}`));
        }
      }
    }
    return this.ready().then(() => new Promise((resolve, reject) => {
      const conn = this._conn;
      if (!conn || conn.ws.readyState !== 1) {
        reject(new SwitchboardError('unavailable', 'not connected; ask again'));
        return;
      }
      const id = randomId();
      conn.requests.set(id, { resolve, reject });
      this._raw(conn, { ...frame, id });
    }));
  }

  _onAnswer(conn, frame) {
    const request = conn.requests.get(frame.id);
    if (!request) {
      return;
    }
    conn.requests.delete(frame.id);
    const answer = { ...frame };
    delete answer.type;
    delete answer.id;
    request.resolve(answer);
  }

  // ---------------------------------------------------------------------------------------
  // Mutes: offline notifications (the server's webhook) muted per peer, per room or for everyone

  /**
   * Mutes (or with `muted` false unmutes) offline notifications from `{peer}`, of the messages of
   * `{room}`, or from everyone (`{}`). Resolves with the server's answer `{peer?, room?, muted}`
   * once the setting is stored; rejects with a SwitchboardError on a refusal. Works offline: kept
   * (in memory) and written when a connection opens, and written again on the next connection if
   * this one drops before the answer (setting a mute twice changes nothing).
   */
  mute(target = {}, muted = true) {
    if (typeof muted !== 'boolean') {
      return Promise.reject(new SwitchboardError('invalid_field', 'muted must be true or false'));
    }
    return this._queueMute(target, muted);
  }

  /** Resolves with the stored setting for `{peer}`, `{room}` or everyone (`{}`): `{peer?, room?, muted}`; queued like mute(). */
  muted(target = {}) {
    return this._queueMute(target, undefined);
  }

  _queueMute(target, muted) {
    const { peer, room } = target ?? {};
    if (peer != null && room != null) {
      return Promise.reject(new SwitchboardError('invalid_field', 'a mute names a peer or a room, not both'));
    }
    const name = room != null ? 'room' : 'peer';
    const problem = (peer ?? room) != null ? idProblem(peer ?? room, this.options.maxIdLength) : null;
    if (problem) {
      return Promise.reject(new SwitchboardError(name === 'peer' ? 'invalid_user' : 'invalid_field', `${name} ${problem}`));
    }
    if (this._stopped) {
      return Promise.reject(new SwitchboardError('closed', 'client is closed'));
    }
    const entry = { id: randomId(), peer, room, muted, key: room != null ? 'room|' + room : peer ?? '', attempts: 0 };
    const promise = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    this._mutes.set(entry.id, entry);
    this._pumpMutes();
    return promise;
  }

  /**
   * Writes the mutes and queries that wait, in order, taking tokens from the sends' rate bucket
   * (the server counts them as sends). One per peer, room or everyone is in flight at a time: the
   * server reads and then moves a setting, so two at once could leave the older one's value.
   */
  _pumpMutes() {
    const conn = this._conn;
    if (!conn || this._state !== State.OPEN || conn.ws.readyState !== 1) {
      return;
    }
    const bucket = this._bucket;
    const now = this._now();
    bucket.tokens = Math.min(this.options.sendBurst, bucket.tokens + ((now - bucket.at) / 1000) * bucket.rate);
    bucket.at = now;
    const busy = new Set();
    for (const entry of this._mutes.values()) {
      if (busy.has(entry.key)) {
        continue;
      }
      busy.add(entry.key);
      if (entry.sentOn === conn || entry.retryTimer) {
        continue;
      }
      if (bucket.tokens < 1) {
        clearTimeout(this._muteTimer);
        this._muteTimer = setTimeout(() => this._pumpMutes(), Math.ceil(((1 - bucket.tokens) / bucket.rate) * 1000));
        return;
      }
      bucket.tokens -= 1;
      entry.sentOn = conn;
      const frame = { type: entry.muted === undefined ? 'muted' : 'mute', id: entry.id };
      if (entry.peer != null) frame.peer = entry.peer;
      if (entry.room != null) frame.room = entry.room;
      if (entry.muted !== undefined) frame.muted = entry.muted;
      this._raw(conn, frame);
    }
  }

  /** A `muted` answer: by id, or (from a server that does not echo ids) the oldest in flight for its peer or room. */
  _onMuted(conn, frame) {
    const key = frame.room != null ? 'room|' + frame.room : frame.peer ?? '';
    const entry = this._mutes.get(frame.id)
      ?? [...this._mutes.values()].find((e) => frame.id == null && e.sentOn === conn && e.key === key);
    if (!entry) {
      return;
    }
    const answer = { ...frame };
    delete answer.type;
    delete answer.id;
    this._settleMute(entry, answer, null);
  }

  /**
   * An error naming a mute: rate_limited, unavailable, internal and overloaded are tried again with
   * the same rules as a send (a jittered, doubling wait); any other code is final. Returns whether
   * the id was a mute's.
   */
  _onMuteError(id, error) {
    const entry = this._mutes.get(id);
    if (!entry) {
      return false;
    }
    if (WAIT_SEND_ERRORS.has(error.code) || RETRY_SEND_ERRORS.has(error.code)) {
      entry.attempts += 1;
      entry.sentOn = null;
      const window = Math.min(this.options.maxReconnectDelay, this.options.sendRetryDelay * 2 ** (entry.attempts - 1));
      const delay = Math.round(this._random() * window);
      entry.retryTimer = setTimeout(() => {
        entry.retryTimer = null;
        this._pumpMutes();
      }, delay);
    } else {
      this._settleMute(entry, null, error);
    }
    return true;
  }

  _settleMute(entry, answer, error) {
    this._mutes.delete(entry.id);
    clearTimeout(entry.retryTimer);
    if (answer) {
      entry.resolve(answer);
    } else {
      entry.reject(error);
    }
    this._pumpMutes(); // the next one for the same peer or room may go now
  }

  /** close(): every mute not answered yet rejects with `closed`. */
  _closeMutes() {
    clearTimeout(this._muteTimer);
    for (const entry of [...this._mutes.values()]) {
      this._settleMute(entry, null, new SwitchboardError('closed', 'client closed before the server answered the mute'));
    }
  }

  /** While reconnecting: skip the rest of the back-off wait and try now. */
  retryNow() {
    if (this._retryTimer && this._started) {
      this._clearRetry();
      this._open();
    }
  }

  /**
   * Gives the client a fresh token (server `auth.mode` jwt). On an open session it is sent at
   * once (answered by an `authenticated` event, or an `error` with code invalid_token); it is
   * also used for the next connection, and ends a wait for a token.
   */
  refreshToken(token) {
    if (typeof token !== 'string' || !token) {
      throw new TypeError('token must be a non-empty string');
    }
    this._token = token;
    if (typeof this.options.token !== 'function') {
      this.options.token = token;
    }
    if (this._conn && this._state === State.OPEN) {
      this._conn.tokenSent = true;
      this._raw(this._conn, { type: 'token', token });
    }
    this._scheduleRenewal();
    if (this._waitingForToken && this._started) {
      this._waitingForToken = false;
      this._open();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Connection lifecycle

  _open() {
    this._retryTimer = null;
    if (!this._started || this._conn) {
      return;
    }
    this._setState(State.CONNECTING);
    const token = this.options.token;
    if (typeof token === 'function') {
      // Asked again for every connection, so a reconnect after expiry presents a fresh token.
      Promise.resolve()
        .then(() => token())
        .then((fresh) => {
          if (this._started && !this._conn && this._state === State.CONNECTING) {
            this._token = fresh || null;
            this._openWith(this._token);
          }
        }, (e) => {
          this._emitError(new SwitchboardError('token', 'could not get a token: ' + (e && e.message)));
          if (this._started && !this._conn) {
            this._scheduleRetry({ code: 0, reason: 'no token' });
          }
        });
    } else if (this._token && tokenExpired(this._token, this._now())) {
      this._needToken(0, 'token expired');
    } else {
      this._openWith(this._token);
    }
  }

  _openWith(token) {
    let ws;
    try {
      const url = new URL(this.url, globalThis.location?.href);
      url.searchParams.set('user', this.user);
      url.searchParams.set('device', this.device);
      // Without since the server resumes after the cursor stored by our acks; with it we resume
      // after what this tab actually processed, which is never behind the cursor.
      if (this._lastSeq !== null) {
        url.searchParams.set('since', String(this._lastSeq));
      } else {
        url.searchParams.delete('since');
      }
      // Browsers cannot set headers on a WebSocket: the token travels as a second subprotocol.
      ws = new this._WebSocket(url.toString(), token ? [SUBPROTOCOL, 'token.' + token] : SUBPROTOCOL);
    } catch (e) {
      // A malformed URL will not get better by retrying.
      this._emitError(new SwitchboardError('bad_url', `cannot open ${this.url}: ${e.message}`));
      this._giveUp(null, 'bad_url', e.message);
      return;
    }
    const conn = {
      ws,
      delivered: -1,    // highest seq the server has sent on this connection (acks must not exceed it)
      acked: -1,        // highest seq acked on this connection
      unacked: 0,       // seqs processed since the last ack
      synced: false,
      syncedAt: 0,
      refusal: null,    // the id-less error frame that came before a close
      lastHeard: this._now(),
      pingSentAt: 0,
      timer: null,
      requests: new Map(), // room requests sent on this connection and not answered yet, by id
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
    conn.lastHeard = this._now();
    conn.timer = setInterval(() => this._heartbeat(conn), Math.min(5000, this.options.pingInterval));
    // The server's rate bucket is per connection and starts full.
    this._bucket = { tokens: this.options.sendBurst, at: this._now(), rate: this.options.sendRate };
    this._setState(State.OPEN);
    this._scheduleRenewal();
    this._readsSent.clear();
    for (const { field, id, msgId } of this._readsToSend.values()) {
      this._sendRead(conn, field, id, msgId);
    }
    this._readsToSend.clear();
    this._pump();
    this._pumpMutes();
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
    if (code === CLOSE_TOO_BIG) {
      this._onClosedTooBig(conn, reason);
    }
    for (const entry of this._outbox.values()) {
      if (entry.sentOn === conn) entry.sentOn = null;
    }
    if (!this._started) {
      return;
    }
    if (conn.syncedAt && this._now() - conn.syncedAt >= this.options.minUptime) {
      this._attempt = 0; // the connection proved itself: back-off starts over
    }
    const refusal = conn.refusal?.code;
    if (code === CLIENT_CURSOR_RESET) {
      this._scheduleRetry({ code, reason, delay: 0 });
    } else if (code === CLOSE_POLICY && refusal === 'too_many_sessions') {
      this._scheduleRetry({ code, reason, floor: this.options.sessionLimitDelay });
    } else if ((code === CLOSE_POLICY && refusal === 'invalid_token') || code === CLOSE_TOKEN_EXPIRED) {
      if (typeof this.options.token === 'function') {
        this._scheduleRetry({ code, reason }); // the next connection asks for a fresh token
      } else if (code === CLOSE_TOKEN_EXPIRED && !tokenExpired(this._token, this._now())) {
        this._scheduleRetry({ code, reason }); // a token given with refreshToken() in the meantime
      } else {
        this._needToken(code, reason);
      }
    } else if (code === CLOSE_POLICY) {
      // Refused for something a retry would not change (a bad user or device id).
      this._giveUp(code, refusal || 'refused', reason);
    } else {
      this._scheduleRetry({ code, reason });
    }
  }

  /** The connection was refused for good: stop, keeping queued sends stored. */
  _giveUp(code, why, reason) {
    const message = reason || 'the server refused the connection';
    const queued = this._persistent();
    for (const entry of this._outbox.values()) {
      this._settle(entry, null, new SwitchboardError('refused', message, { id: entry.id, queued: queued && entry.persisted }),
        { keep: true });
    }
    this._emitError(new SwitchboardError('refused', message, { closeCode: code, refusal: why }));
    this._halt(code, message);
  }

  /** A string token is expired or refused: wait, without retrying, until refreshToken(). */
  _needToken(code, reason) {
    this._waitingForToken = true;
    this._emitError(new SwitchboardError('invalid_token', 'the token expired or was refused: call refreshToken()',
      { needsToken: true }));
    this._setState(State.RECONNECTING, { code, reason, delay: null, waiting: 'token' });
  }

  /** Stops listening to a connection's events and timers; the socket itself is left to the caller. */
  _detach(conn) {
    for (const request of conn.requests.values()) {
      request.reject(new SwitchboardError('unavailable', 'the connection closed before the answer; ask again'));
    }
    conn.requests.clear();
    clearTimeout(conn.openTimer);
    clearInterval(conn.timer);
    conn.ws.onopen = conn.ws.onmessage = conn.ws.onclose = null;
    // Not null: closing a socket that is still connecting reports an error (Node's `ws` throws
    // one that has no listener).
    conn.ws.onerror = () => {};
    if (this._conn === conn) {
      this._conn = null;
    }
    clearTimeout(this._ackTimer);
    this._ackTimer = null;
  }

  /**
   * Full jitter: the wait is anywhere in [0, window), so clients that lost the same server do
   * not come back together. The first retry after a restart is spread over restartDelay.
   */
  _scheduleRetry({ code, reason, delay, floor = 0 }) {
    const { minReconnectDelay: min, maxReconnectDelay: max, restartDelay } = this.options;
    let window = Math.min(max, min * 2 ** Math.min(this._attempt, 30));
    if (code === CLOSE_RESTART && this._attempt === 0) {
      window = Math.max(window, restartDelay);
    }
    let wait = delay ?? Math.round(this._random() * window);
    if (floor) {
      // A limit the server holds for a while: wait at least half the floor, jittered above it.
      wait = Math.round(floor / 2 + this._random() * Math.max(floor / 2, window));
    }
    if (delay === undefined) {
      this._attempt += 1;
    }
    this._retryTimer = setTimeout(() => this._open(), wait);
    this._setState(State.RECONNECTING, { code, reason, delay: wait, attempt: this._attempt });
  }

  _clearRetry() {
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
  }

  /** Pings when the line has been quiet, and gives up on a connection that stopped answering. */
  _heartbeat(conn) {
    const now = this._now();
    if (conn.pingSentAt && now - conn.pingSentAt > this.options.pongTimeout) {
      // A half-open TCP connection can look open for minutes; don't wait for the OS to notice.
      this._drop(conn, CLIENT_NO_PONG, 'no answer to ping');
    } else if (!conn.pingSentAt && now - conn.lastHeard >= this.options.pingInterval) {
      conn.pingSentAt = now;
      this._raw(conn, { type: 'ping' });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Token renewal

  /** Plans the next renewal from the current token's exp (tokens without exp are not renewed). */
  _scheduleRenewal(delayOverride) {
    clearTimeout(this._renewTimer);
    this._renewTimer = null;
    if (!this._started) {
      return;
    }
    let delay = delayOverride;
    if (delay === undefined) {
      const exp = tokenExp(this._token);
      if (exp === null) {
        return;
      }
      const left = exp * 1000 - this._now();
      // Ahead by tokenRenewBefore, or halfway through a lifetime shorter than that.
      delay = Math.max(0, left - Math.min(this.options.tokenRenewBefore, left / 2));
    }
    this._renewTimer = setTimeout(() => this._renew(), delay);
  }

  _renew() {
    this._renewTimer = null;
    const source = this.options.token;
    if (typeof source !== 'function') {
      // Only the page can get a new one: ask it.
      this._emit('token', { exp: tokenExp(this._token), needsToken: true });
      return;
    }
    Promise.resolve()
      .then(() => source())
      .then((fresh) => {
        if (!this._started) {
          return;
        }
        if (typeof fresh !== 'string' || !fresh) {
          throw new Error('the token function returned no token');
        }
        this._renewAttempt = 0;
        this._token = fresh;
        if (this._conn && this._state === State.OPEN) {
          this._conn.tokenSent = true;
          this._raw(this._conn, { type: 'token', token: fresh });
        }
        this._scheduleRenewal();
      })
      .catch((e) => {
        if (!this._started) {
          return;
        }
        this._emitError(new SwitchboardError('token', 'could not renew the token: ' + (e && e.message)));
        this._renewAttempt += 1;
        const window = Math.min(this.options.maxReconnectDelay, this.options.minReconnectDelay * 2 ** this._renewAttempt);
        this._scheduleRenewal(Math.round(this._random() * window));
      });
  }

  // ---------------------------------------------------------------------------------------
  // Incoming frames

  _onFrame(conn, data) {
    if (conn !== this._conn) {
      return;
    }
    conn.lastHeard = this._now();
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
      case 'read': this._onMessage(conn, frame); break;
      case 'delivered': this._onMessage(conn, frame); break;
      case 'room': this._onMessage(conn, frame); break;
      case 'done': case 'members': case 'rooms': this._onAnswer(conn, frame); break;
      case 'muted': this._onMuted(conn, frame); break;
      case 'signal': this._emit('signal', { from: frame.from, kind: frame.kind, data: frame.data }); break;
      case 'gap': this._onGap(conn, frame); break;
      case 'synced': this._onSynced(conn, frame); break;
      case 'accepted': this._onAccepted(frame); break;
      case 'error': this._onServerError(conn, frame); break;
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
      return; // already processed
    }
    this._accept(m);
  }

  /** Emits a message we have not seen, then records its seq as processed. */
  _accept(m) {
    const duplicate = m.msgId != null && this._seen.has(m.msgId);
    if (!duplicate) {
      this._remember(m.msgId);
      if (m.type === 'read' || m.type === 'delivered') {
        // A receipt holds a seq in this inbox like a message: processed and acked the same way.
        const receipt = { by: m.by, upTo: m.upTo, msgId: m.msgId, seq: m.seq, ts: m.ts };
        if (m.room != null) {
          receipt.room = m.room; // about a room's message: one per member for delivered
        }
        this._emit(m.type, receipt);
      } else if (m.type === 'room') {
        this._emit('room', {
          room: m.room, roomSeq: m.roomSeq, event: m.event, member: m.member, by: m.by, msgId: m.msgId, seq: m.seq, ts: m.ts,
        });
      } else {
        const detail = { msgId: m.msgId, seq: m.seq, from: m.from, to: m.to, body: m.body, ts: m.ts, push: m.push === true };
        if (m.room != null) {
          detail.room = m.room;
          detail.roomSeq = m.roomSeq;
        }
        this._emit('message', detail);
      }
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
    if (Number.isSafeInteger(seq)) {
      conn.delivered = Math.max(conn.delivered, seq);
      if (this._lastSeq !== null && seq < this._lastSeq) {
        // The server's inbox ends before what we processed: it was reset. Numbering starts over,
        // so everything after 0 is asked for again; msgIds already seen are dropped.
        this._emitError(new SwitchboardError('cursor_reset',
          `server inbox ends at seq ${seq}, this device had ${this._lastSeq}; reading it again from the start`));
        this._epoch += 1;
        this._lastSeq = 0;
        this._storeCursor();
        this._drop(conn, CLIENT_CURSOR_RESET, 'cursor reset');
        return;
      }
      if (this._lastSeq === null) {
        this._setSeq(seq); // a new device caught up: resume from here next time
      }
    }
    conn.synced = true;
    conn.syncedAt = this._now();
    const detail = { seq: Number.isSafeInteger(seq) ? seq : this._lastSeq };
    this._emit('synced', detail);
    for (const waiter of this._readyWaiters.splice(0)) {
      waiter.resolve(detail);
    }
    this._scheduleAck(true);
  }

  _onAccepted(frame) {
    const entry = this._outbox.get(frame.id);
    if (!entry) {
      return; // a retry of something already settled
    }
    const detail = entry.room != null ? { ...frame, body: entry.body } : { ...frame, to: entry.to, body: entry.body };
    delete detail.type;
    this._finish(entry, detail, null);
  }

  _onServerError(conn, frame) {
    const error = new SwitchboardError(frame.code || 'internal', frame.message, frame.id != null ? { id: frame.id } : {});
    if (frame.id != null && this._onMuteError(frame.id, error)) {
      return;
    }
    const request = frame.id != null ? conn.requests.get(frame.id) : null;
    if (request) {
      conn.requests.delete(frame.id);
      request.reject(error);
      return;
    }
    const entry = frame.id != null ? this._outbox.get(frame.id) : null;
    if (!entry) {
      if (frame.id == null) {
        conn.refusal = { code: error.code, message: error.message };
        if (error.code === 'too_large') {
          this._onFrameTooLarge(conn, error);
        }
        if (error.code === 'invalid_token' && conn.tokenSent && typeof this.options.token === 'function') {
          // A renewed token was refused: the session keeps its old expiry, try another one.
          this._renewAttempt += 1;
          this._scheduleRenewal(Math.round(this._random() * this.options.minReconnectDelay * 2 ** this._renewAttempt));
        }
      }
      this._emitError(error);
      return;
    }
    if (WAIT_SEND_ERRORS.has(error.code)) {
      // Too fast: back in line, and the pace drops (once per pause) until the next connection.
      entry.sentOn = null;
      const bucket = this._bucket;
      if (!(bucket.pausedUntil > this._now())) {
        bucket.rate = Math.max(1, bucket.rate / 2);
        bucket.tokens = 0;
        bucket.pausedUntil = this._now() + Math.round(500 + this._random() * 500);
      }
      this._emit('retry', { id: entry.id, code: error.code, attempt: entry.attempts || 0, delay: bucket.pausedUntil - this._now() });
      this._pump();
      return;
    }
    if (RETRY_SEND_ERRORS.has(error.code)) {
      // The server could not tell whether it stored it: ask again with the same id later.
      entry.attempts = (entry.attempts || 0) + 1;
      const window = Math.min(this.options.maxReconnectDelay, this.options.sendRetryDelay * 2 ** (entry.attempts - 1));
      const delay = Math.round(this._random() * window);
      entry.sentOn = null;
      clearTimeout(entry.retryTimer);
      entry.retryTimer = setTimeout(() => {
        entry.retryTimer = null;
        this._pump();
      }, delay);
      this._emit('retry', { id: entry.id, code: error.code, attempt: entry.attempts, delay });
      return;
    }
    this._finish(entry, null, error);
  }

  /**
   * The server refused a whole frame as too large, which names no id. Its message says its
   * limit: learn it, and settle the sends whose frames exceed it (each would be refused again).
   */
  _onFrameTooLarge(conn, error) {
    this._learnFrameLimit(Number(/larger than (\d+) bytes/.exec(error.message || '')?.[1]));
  }

  /**
   * The server closed with 1009: a frame sent on this connection was over its limit. Its reason
   * names the limit; where it does not, the largest frame in flight was over it.
   */
  _onClosedTooBig(conn, reason) {
    let limit = Number(/larger than (\d+) bytes/.exec(reason || '')?.[1]);
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      const inFlight = [...this._outbox.values()].filter((e) => e.sentOn === conn).map(frameBytes);
      limit = inFlight.length > 0 ? Math.max(...inFlight) - 1 : NaN;
    }
    this._learnFrameLimit(limit);
  }

  /** Lowers the frame limit to the server's, and settles the sends whose frames exceed it (each would be refused again). */
  _learnFrameLimit(limit) {
    if (Number.isSafeInteger(limit) && limit > 0 && limit < this._maxFrameBytes) {
      this._maxFrameBytes = limit;
    }
    for (const entry of [...this._outbox.values()]) {
      if (frameBytes(entry) > this._maxFrameBytes) {
        this._finish(entry, null, new SwitchboardError('too_large',
          `the send frame is larger than the server's ${this._maxFrameBytes} bytes`, { id: entry.id }));
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // The outbox

  _outboxPrefix() {
    return this._key('outbox') + ':';
  }

  _persistent() {
    return this.options.persistOutbox && !this._storage.volatile;
  }

  _sizeProblem(entry) {
    entry.bytes = utf8Length(entry.body);
    if (entry.bytes > this.options.maxBodyBytes) {
      return `body is ${entry.bytes} bytes of UTF-8, more than ${this.options.maxBodyBytes}`;
    }
    const frame = frameBytes(entry);
    if (frame > this._maxFrameBytes) {
      return `the send frame would be ${frame} bytes, more than ${this._maxFrameBytes}`;
    }
    return null;
  }

  _add(entry) {
    entry.bytes ??= utf8Length(entry.body);
    this._outbox.set(entry.id, entry);
    this._queuedBytes += entry.bytes;
  }

  _remove(entry) {
    if (this._outbox.get(entry.id) === entry) {
      this._outbox.delete(entry.id);
      this._queuedBytes -= entry.bytes;
    }
    clearTimeout(entry.retryTimer);
    entry.retryTimer = null;
  }

  /** One storage record per send: queueing or settling one never rewrites the others. */
  _saveEntry(entry) {
    if (!this._persistent()) {
      return false;
    }
    return this._storage.set(this._outboxPrefix() + encodeURIComponent(entry.id), JSON.stringify(recordOf(entry)));
  }

  _deleteEntry(entry) {
    if (this._persistent()) {
      this._storage.remove(this._outboxPrefix() + encodeURIComponent(entry.id));
    }
  }

  /** Loads stored sends (and converts the older single-list record). */
  _restoreOutbox() {
    if (!this._persistent()) {
      return;
    }
    const legacyKey = this._key('outbox');
    const legacy = this._storage.get(legacyKey);
    if (legacy !== null) {
      let list = [];
      try {
        list = JSON.parse(legacy);
      } catch {
        // corrupt: nothing to convert
      }
      for (const r of Array.isArray(list) ? list : []) {
        const entry = this._fromRecord(r);
        if (entry) {
          entry.persisted = this._saveEntry(entry);
        }
      }
      this._storage.remove(legacyKey);
    }
    this._adoptStored();
  }

  /** Takes every stored send this client does not hold yet. */
  _adoptStored() {
    if (!this._persistent()) {
      return;
    }
    const prefix = this._outboxPrefix();
    const found = [];
    for (const key of this._storage.keys()) {
      if (!key.startsWith(prefix)) continue;
      let record = null;
      try {
        record = JSON.parse(this._storage.get(key));
      } catch {
        // corrupt
      }
      if (!record || this._outbox.has(record.id)) continue;
      found.push([key, record]);
    }
    found.sort((a, b) => (a[1].createdAt || 0) - (b[1].createdAt || 0));
    for (const [key, record] of found) {
      if (!this._fromRecord(record)) {
        this._storage.remove(key);
      } else {
        this._outbox.get(record.id).persisted = true;
      }
    }
  }

  /** An outbox entry from a stored or broadcast record, or null (with an error event) when it is unusable. */
  _fromRecord(r) {
    if (!r || typeof r.id !== 'string' || (typeof r.to !== 'string' && typeof r.room !== 'string') || typeof r.body !== 'string') {
      return null;
    }
    if (this._outbox.has(r.id)) {
      return this._outbox.get(r.id);
    }
    const entry = {
      id: r.id, body: r.body, createdAt: r.createdAt || this._now(), firstSentAt: r.firstSentAt || 0,
    };
    if (typeof r.room === 'string') {
      entry.room = r.room;
    } else {
      entry.to = r.to;
    }
    if (r.receipt === true) {
      entry.receipt = true;
    }
    const tooLarge = this._sizeProblem(entry);
    if (tooLarge || idProblem(entry.room ?? entry.to, this.options.maxIdLength)) {
      this._emitError(new SwitchboardError(tooLarge ? 'too_large' : 'invalid_user', tooLarge || 'recipient is not a valid id',
        { id: entry.id, to: entry.to }));
      return null;
    }
    this._add(entry);
    return entry;
  }

  /** Settles an entry here and in every tab, and removes it from storage. */
  _finish(entry, accepted, error) {
    this._remove(entry);
    this._deleteEntry(entry);
    this._tell({ type: 'settled', id: entry.id, accepted, error: error && { code: error.code, message: error.message } });
    this._settle(entry, accepted, error);
  }

  /** Resolves or rejects an entry's promise (if this tab made it) and emits the matching event. */
  _settle(entry, accepted, error, { keep = false } = {}) {
    if (!keep && error?.code !== 'closed') {
      this._remove(entry);
    }
    if (accepted) {
      entry.resolve?.(accepted);
      this._emit('accepted', accepted);
    } else {
      entry.reject?.(error);
      if (error.code !== 'closed') {
        this._emit('error', error);
      }
    }
    entry.resolve = entry.reject = null;
  }

  /**
   * Writes queued sends in order, at most sendRate per second after a burst of sendBurst, so a
   * long outbox does not run into the server's rate limit. Only the tab that owns the outbox writes.
   */
  _pump() {
    clearTimeout(this._pumpTimer);
    this._pumpTimer = null;
    const conn = this._conn;
    if (!this._owner || !conn || this._state !== State.OPEN || conn.ws.readyState !== 1 /* OPEN */) {
      return;
    }
    const bucket = this._bucket;
    const now = this._now();
    if (bucket.pausedUntil && now < bucket.pausedUntil) {
      this._pumpTimer = setTimeout(() => this._pump(), bucket.pausedUntil - now);
      return;
    }
    bucket.tokens = Math.min(this.options.sendBurst, bucket.tokens + ((now - bucket.at) / 1000) * bucket.rate);
    bucket.at = now;
    for (const entry of this._outbox.values()) {
      if (entry.sentOn === conn || entry.retryTimer) {
        continue;
      }
      if (bucket.tokens < 1) {
        this._pumpTimer = setTimeout(() => this._pump(), Math.ceil(((1 - bucket.tokens) / bucket.rate) * 1000));
        return;
      }
      bucket.tokens -= 1;
      entry.sentOn = conn;
      if (!entry.firstSentAt) {
        entry.firstSentAt = now;
        if (entry.persisted) {
          entry.persisted = this._saveEntry(entry);
        }
      }
      this._raw(conn, sendFrame(entry));
    }
  }

  /**
   * Gives up sends that can no longer be retried safely: one first written more than maxAge ago
   * (the server may have forgotten its id, so a retry could store it twice), or queued more than
   * maxQueueAge ago. Each is reported; the page decides whether to send it again.
   */
  _sweep() {
    if (!this._owner) {
      return;
    }
    const now = this._now();
    for (const entry of [...this._outbox.values()]) {
      const sentTooLongAgo = entry.firstSentAt && now - entry.firstSentAt > this.options.maxAge;
      if (sentTooLongAgo || now - entry.createdAt > this.options.maxQueueAge) {
        this._finish(entry, null, new SwitchboardError('expired', sentTooLongAgo
          ? 'not accepted within maxAge of its first try: sending it again could store it twice'
          : 'not accepted within maxQueueAge', { id: entry.id, to: entry.to, body: entry.body }));
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Tabs: one owner of the outbox per user and device (Web Locks), news by BroadcastChannel

  _setupTabs() {
    const locks = this.options.locks !== undefined ? this.options.locks : globalThis.navigator?.locks;
    const Channel = this.options.BroadcastChannel !== undefined ? this.options.BroadcastChannel : globalThis.BroadcastChannel;
    this._owner = true; // without coordination this client owns what it holds
    if (!locks || !Channel || !this._persistent()) {
      return;
    }
    this._locks = locks;
    this._owner = false;
    try {
      this._channel = new Channel(`${this._key('tabs')}`);
      this._channel.onmessage = (event) => this._onTabMessage(event.data);
    } catch {
      this._channel = null;
      this._locks = null;
      this._owner = true;
    }
  }

  _tell(message) {
    try {
      this._channel?.postMessage(message);
    } catch {
      // a closed channel: nothing to tell
    }
  }

  _onTabMessage(message) {
    if (!message || typeof message.id !== 'string' && message.type !== 'queued') {
      return;
    }
    if (message.type === 'queued') {
      // Another tab queued a send: every tab lists it, the owner sends it.
      const entry = this._fromRecord(message.entry);
      if (entry) {
        entry.persisted ??= Boolean(message.persisted);
        this._pump();
      }
    } else if (message.type === 'settled') {
      const entry = this._outbox.get(message.id);
      if (!entry) {
        return;
      }
      this._remove(entry);
      const error = message.error && new SwitchboardError(message.error.code, message.error.message, { id: message.id });
      this._settle(entry, message.accepted, error);
    }
  }

  /** Asks to own the outbox; granted when no other tab of this user and device does. */
  _claimOutbox() {
    if (!this._locks || this._release) {
      return;
    }
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    this._release = release;
    this._locks.request(this._key('outbox-owner'), () => {
      if (this._release !== release) {
        return undefined; // disconnected while waiting
      }
      this._owner = true;
      this._adoptStored(); // including what a tab that went away left behind
      this._pump();
      return held;
    }).catch(() => {});
  }

  _releaseOutbox() {
    if (!this._locks) {
      return;
    }
    this._owner = false;
    this._release?.();
    this._release = null;
  }

  // ---------------------------------------------------------------------------------------
  // Outgoing frames

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
    if (!TRANSITIONS[previous].includes(state)) {
      // Never expected: reported rather than thrown, so a page keeps working.
      this._emitError(new SwitchboardError('bad_transition', `state ${previous} -> ${state}`));
    }
    this._state = state;
    this._emit('state', { state, previous, ...extra });
  }

  _emit(type, detail) {
    if (this._constructing) {
      queueMicrotask(() => this.dispatchEvent(new CustomEvent(type, { detail })));
      return;
    }
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

  /** The stored cursor: {seq, epoch}; a plain number is an older client's record (epoch 0). */
  _loadCursor() {
    const stored = this._storage.get(this._key('seq'));
    let value = null;
    try {
      value = stored === null || stored === '' ? null : JSON.parse(stored);
    } catch {
      // corrupt: start without one
    }
    if (typeof value === 'number') {
      value = { seq: value, epoch: 0 };
    }
    if (!value || !Number.isSafeInteger(value.seq) || value.seq < 0) {
      return { seq: null, epoch: Number.isSafeInteger(value?.epoch) ? value.epoch : 0 };
    }
    return { seq: value.seq, epoch: Number.isSafeInteger(value.epoch) ? value.epoch : 0 };
  }

  _setSeq(seq) {
    if (this._lastSeq === null || seq > this._lastSeq) {
      this._lastSeq = seq;
      this._storeCursor();
    }
  }

  /**
   * Writes the cursor as the maximum of this tab's and the stored one, so a tab that is catching
   * up never moves it back. A later epoch (a reset seen by some tab) wins over any seq.
   */
  _storeCursor() {
    const stored = this._loadCursor();
    if (stored.epoch > this._epoch) {
      return; // another tab saw a reset this one has not: it will on its next sync
    }
    if (stored.epoch === this._epoch && stored.seq !== null && stored.seq >= this._lastSeq) {
      return;
    }
    this._storage.set(this._key('seq'), JSON.stringify({ seq: this._lastSeq, epoch: this._epoch }));
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

/** UTF-8 length of a string, as the server counts it (a lone surrogate becomes 3 bytes of U+FFFD). */
export function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      n += 1;
    } else if (c < 0x800) {
      n += 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i += 1;
    } else {
      n += 3;
    }
  }
  return n;
}

/** The send frame of an outbox entry: to a user or to a room, perhaps asking for delivered receipts. */
function sendFrame(entry) {
  const frame = entry.room != null
    ? { type: 'send', id: entry.id, room: entry.room, body: entry.body }
    : { type: 'send', id: entry.id, to: entry.to, body: entry.body };
  if (entry.receipt) {
    frame.receipt = true;
  }
  return frame;
}

function frameBytes(entry) {
  return utf8Length(JSON.stringify(sendFrame(entry)));
}

function recordOf(entry) {
  const record = entry.room != null
    ? { id: entry.id, room: entry.room, body: entry.body, createdAt: entry.createdAt }
    : { id: entry.id, to: entry.to, body: entry.body, createdAt: entry.createdAt };
  if (entry.receipt) {
    record.receipt = true;
  }
  if (entry.firstSentAt) {
    record.firstSentAt = entry.firstSentAt;
  }
  return record;
}

function idOfKey(key, prefix) {
  if (typeof key !== 'string' || !key.startsWith(prefix)) {
    return undefined;
  }
  try {
    return decodeURIComponent(key.slice(prefix.length));
  } catch {
    return undefined;
  }
}

/** The `exp` claim (seconds) of a JWT, or null when it has none or is not a JWT. */
export function tokenExp(token) {
  if (typeof token !== 'string') {
    return null;
  }
  const part = token.split('.')[1];
  if (!part) {
    return null;
  }
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0)));
    const exp = JSON.parse(json).exp;
    return Number.isFinite(exp) ? exp : null;
  } catch {
    return null;
  }
}

function tokenExpired(token, now) {
  const exp = tokenExp(token);
  return exp !== null && exp * 1000 <= now;
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

/**
 * Wraps a Storage-like object so that quota errors and blocked storage never break messaging;
 * each failure is passed to `report(op, key, error)`.
 */
function safeStorage(storage, report) {
  if (!storage) {
    const memory = new Map();
    return {
      volatile: true,
      get: (k) => (memory.has(k) ? memory.get(k) : null),
      set: (k, v) => {
        memory.set(k, String(v));
        return true;
      },
      remove: (k) => memory.delete(k),
      keys: () => [...memory.keys()],
    };
  }
  return {
    volatile: false,
    get(k) {
      try {
        return storage.getItem(k);
      } catch (e) {
        report('read', k, e);
        return null;
      }
    },
    set(k, v) {
      try {
        storage.setItem(k, String(v));
        return true;
      } catch (e) {
        report('write', k, e);
        return false;
      }
    },
    remove(k) {
      try {
        storage.removeItem(k);
      } catch (e) {
        report('remove', k, e);
      }
    },
    keys() {
      try {
        const keys = [];
        for (let i = 0; i < storage.length; i++) {
          const k = storage.key(i);
          if (k !== null) keys.push(k);
        }
        return keys;
      } catch (e) {
        report('read', null, e);
        return [];
      }
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
