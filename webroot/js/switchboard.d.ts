// Type declarations for switchboard.js. docs/client-js.md describes the behaviour.

/** The version of this client, the same as in package.json. */
export declare const VERSION: string;

export type ConnectionState = 'closed' | 'connecting' | 'open' | 'reconnecting';

export declare const State: Readonly<{
  CLOSED: 'closed';
  CONNECTING: 'connecting';
  OPEN: 'open';
  RECONNECTING: 'reconnecting';
}>;

/** Every allowed state change: TRANSITIONS[from] lists the states that may follow. */
export declare const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>>;

/** The part of the Web Storage API the client uses (localStorage fits). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  /** Needed to find stored sends again after a reload. */
  readonly length: number;
  key(index: number): string | null;
}

/** The part of the Web Locks API the client uses (navigator.locks fits). */
export interface LocksLike {
  request(name: string, callback: (lock: unknown) => unknown): Promise<unknown>;
}

export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  // The event is read as `{ data }`; `any` lets the DOM's MessageEvent handlers fit.
  onmessage: ((event: any) => any) | null;
}

/** A WebSocket constructor: the browser's, or e.g. the `ws` package's in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => {
  readonly readyState: number;
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // Events are read as `{ data }` and `{ code, reason }`; `any` lets the DOM's and `ws`'s handlers fit.
  onopen: ((event: any) => any) | null;
  onmessage: ((event: any) => any) | null;
  onclose: ((event: any) => any) | null;
  onerror: ((event: any) => any) | null;
};

export interface SwitchboardOptions {
  /** Your user id: 1-64 characters, no whitespace, control characters or `|`. */
  user: string;
  url?: string;
  /** A JWT, or a function returning one (or a promise of one), asked before every connection and every renewal. */
  token?: string | (() => string | Promise<string>);
  device?: string;
  /** localStorage by default; null keeps everything in memory. */
  storage?: StorageLike | null;
  WebSocket?: WebSocketConstructor;
  /** navigator.locks by default; null turns tab coordination off. */
  locks?: LocksLike | null;
  /** globalThis.BroadcastChannel by default; null turns tab coordination off. */
  BroadcastChannel?: (new (name: string) => BroadcastChannelLike) | null;
  /** A source of numbers in [0, 1) for jitter (Math.random by default). */
  random?: () => number;
  /** The clock in ms (Date.now by default). */
  now?: () => number;
  minReconnectDelay?: number;
  maxReconnectDelay?: number;
  restartDelay?: number;
  sessionLimitDelay?: number;
  minUptime?: number;
  connectTimeout?: number;
  ackDelay?: number;
  ackEvery?: number;
  pingInterval?: number;
  pongTimeout?: number;
  sendRate?: number;
  sendBurst?: number;
  sendRetryDelay?: number;
  maxBodyBytes?: number;
  maxFrameBytes?: number;
  maxQueued?: number;
  maxQueuedBytes?: number;
  maxAge?: number;
  maxQueueAge?: number;
  sweepInterval?: number;
  tokenRenewBefore?: number;
  seenMsgIds?: number;
  persistOutbox?: boolean;
  storagePrefix?: string;
  maxIdLength?: number;
  /** The server's limits.maxSignalBytes: signal() refuses larger signals (kind plus encoded data). */
  maxSignalBytes?: number;
}

export interface Message {
  msgId: string;
  seq: number;
  from: string;
  to: string;
  body: string;
  ts: number;
  /** True when a back end pushed it (HTTP API or event bus), false for a user's message. */
  push: boolean;
  /** For a room's message: the room, and its place in the room (every member's copy has the same). */
  room?: string;
  roomSeq?: number;
}

/** A room event in this user's inbox: the room was created, or `member` was added or removed (left, when `by` is the member). */
export interface RoomEvent {
  room: string;
  roomSeq: number;
  event: 'created' | 'added' | 'removed';
  member: string;
  by: string;
  msgId: string;
  seq: number;
  ts: number;
}

/** The answer to createRoom, addMember, removeMember: the room's seq after the change. */
export interface RoomChanged {
  room: string;
  roomSeq: number;
}

export interface RoomMembers {
  room: string;
  owner: string;
  roomSeq: number;
  /** In the order they joined. */
  members: string[];
}

/** Whose offline notifications a mute is about: one peer, one room, or (neither) everyone. */
export type MuteTarget = { peer: string; room?: never } | { room: string; peer?: never } | Record<string, never>;

/** The server's `muted` answer: the setting named, as stored. */
export interface MuteState {
  peer?: string;
  room?: string;
  muted: boolean;
}

/** An ephemeral signal from another user (for example `kind` 'typing'): never stored. */
export interface Signal {
  from: string;
  kind: string;
  data?: Record<string, unknown>;
}

/**
 * A read receipt: `by` has read this user's messages to them up to the message `upTo` (a msgId from
 * `accepted`), or, with `room`, the room's messages up to `upTo`.
 */
export interface ReadReceipt {
  by: string;
  /** Present when the receipt is about a room's messages (readRoom() of another member). */
  room?: string;
  upTo: string;
  /** The receipt's own id and position in this user's inbox. */
  msgId: string;
  seq: number;
  ts: number;
}

/**
 * A delivered receipt for a message this user sent with `{ receipt: true }`: a device of `by` has
 * received the message `upTo` (the msgId from `accepted`).
 */
export interface DeliveredReceipt {
  by: string;
  /** Present for a room message: one receipt per member whose device received it. */
  room?: string;
  upTo: string;
  /** The receipt's own id and position in this user's inbox. */
  msgId: string;
  seq: number;
  ts: number;
}

export interface Accepted {
  id: string;
  msgId: string;
  ts: number;
  online: boolean;
  duplicate?: boolean;
  /** The recipient of a send to a user. */
  to?: string;
  /** The room of a send to a room, and the message's place in it. */
  room?: string;
  roomSeq?: number;
  body: string;
}

export interface PendingSend {
  id: string;
  /** One of `to` (a user) and `room`. */
  to?: string;
  room?: string;
  body: string;
  createdAt: number;
  /** Present (true) when the send asked for a delivered receipt. */
  receipt?: true;
}

export interface StateDetail {
  state: ConnectionState;
  previous: ConnectionState;
  code?: number;
  reason?: string;
  /** ms until the next attempt; null while waiting for refreshToken(). */
  delay?: number | null;
  attempt?: number;
  waiting?: 'token';
}

export interface StorageDetail {
  op: 'read' | 'write' | 'remove';
  key: string | null;
  /** The send whose record failed, when it was one. */
  id?: string;
  error: unknown;
}

export interface RetryDetail {
  id: string;
  code: string;
  attempt: number;
  delay: number;
}

export interface SwitchboardEventMap {
  message: Message;
  signal: Signal;
  read: ReadReceipt;
  delivered: DeliveredReceipt;
  room: RoomEvent;
  gap: { from: number; to: number };
  synced: { seq: number | null };
  state: StateDetail;
  accepted: Accepted;
  error: SwitchboardError;
  authenticated: { user: string; exp: number };
  storage: StorageDetail;
  retry: RetryDetail;
  token: { exp: number | null; needsToken: true };
}

/** An Error with a machine-readable code: the server's error code, or one of the client's own. */
export declare class SwitchboardError extends Error {
  constructor(code: string, message?: string, extra?: Record<string, unknown>);
  readonly code: string;
  /** The client id of the send this error is about. */
  readonly id?: string;
  /** The send stays stored and a later client for this user and device sends it. */
  readonly queued?: boolean;
  readonly needsToken?: boolean;
  readonly closeCode?: number;
  readonly to?: string;
  readonly body?: string;
}

export type SendPromise = Promise<Accepted> & { readonly id: string };

export declare class SwitchboardClient extends EventTarget {
  constructor(options: SwitchboardOptions);
  readonly user: string;
  readonly device: string;
  readonly url: string;
  readonly state: ConnectionState;
  readonly synced: boolean;
  readonly lastSeq: number | null;
  readonly pending: PendingSend[];
  on<K extends keyof SwitchboardEventMap>(type: K, callback: (detail: SwitchboardEventMap[K], event: CustomEvent<SwitchboardEventMap[K]>) => void): () => void;
  connect(): this;
  disconnect(): void;
  close(): void;
  ready(): Promise<{ seq: number | null }>;
  /** `receipt: true` asks for a 'delivered' event once a device of `to` has received (acked) the message. */
  send(to: string, body: string, options?: { id?: string; receipt?: boolean }): SendPromise;
  /** Sends to every member of `room` (this user must be one), queued and retried like send(). */
  sendToRoom(room: string, body: string, options?: { id?: string; receipt?: boolean }): SendPromise;
  /** Creates a room owned by this user. Waits for a synced connection; not queued across connections. */
  createRoom(room: string): Promise<RoomChanged>;
  /** Adds `user` (the owner only). */
  addMember(room: string, user: string): Promise<RoomChanged>;
  /** Removes `user` (the owner, or the member itself). */
  removeMember(room: string, user: string): Promise<RoomChanged>;
  /** Removes this user from `room`. */
  leaveRoom(room: string): Promise<RoomChanged>;
  /** The room's owner, last roomSeq and members (members only). */
  members(room: string): Promise<RoomMembers>;
  /** The rooms this user is a member of, sorted. */
  rooms(): Promise<string[]>;
  /**
   * Mutes (`muted` false: unmutes) offline notifications from a peer, of a room, or from everyone.
   * Kept until answered, written again after a reconnect; rejects on a refusal or close().
   */
  mute(target?: MuteTarget, muted?: boolean): Promise<MuteState>;
  /** The stored setting for a peer, a room or everyone (that setting alone); queued like mute(). */
  muted(target?: MuteTarget): Promise<MuteState>;
  /** Sends an ephemeral signal to the live sessions of `to`; false when there is no open connection (dropped). */
  signal(to: string, kind: string, data?: Record<string, unknown>): boolean;
  /** Tells `peer` this user has read their messages up to `msgId`; sent when a connection is open. */
  markRead(peer: string, msgId: string): void;
  /** Tells the other members of `room` this user has read the room's messages up to `msgId`. */
  readRoom(room: string, msgId: string): void;
  retryNow(): void;
  refreshToken(token: string): void;
}

export declare function idProblem(id: unknown, maxLength?: number): string | null;
export declare function randomId(): string;
export declare function utf8Length(s: string): number;
export declare function tokenExp(token: unknown): number | null;
