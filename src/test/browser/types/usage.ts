// Compiled with `tsc --noEmit` by npm test: the declarations in webroot/js/switchboard.d.ts must
// describe the client as pages use it.

import {
  SwitchboardClient, SwitchboardError, State, TRANSITIONS, VERSION, idProblem, tokenExp, utf8Length,
  type Accepted, type ConnectionState, type MuteState, type RoomChanged, type RoomMembers, type StorageLike,
} from '../../../../webroot/js/switchboard.js';

const memory = new Map<string, string>();
const storage: StorageLike = {
  getItem: (k) => memory.get(k) ?? null,
  setItem: (k, v) => void memory.set(k, v),
  removeItem: (k) => void memory.delete(k),
  get length() {
    return memory.size;
  },
  key: (i) => [...memory.keys()][i] ?? null,
};

const client = new SwitchboardClient({
  user: 'alice',
  token: async () => 'header.payload.signature',
  storage,
  random: Math.random,
  maxBodyBytes: 65536,
});
// The browser's own objects fit the options that stand for them.
const inBrowser = new SwitchboardClient({
  user: 'alice',
  storage: localStorage,
  WebSocket,
  locks: navigator.locks,
  BroadcastChannel,
});
inBrowser.close();
const version: string = VERSION;
const first: ConnectionState = State.CLOSED;
const next: readonly ConnectionState[] = TRANSITIONS[first];
client.on('message', (m) => console.log(m.seq.toFixed(), m.body.length));
client.on('state', ({ state, delay }) => console.log(state, delay ?? 'waiting'));
client.on('storage', ({ op, id }) => console.log(op, id));
client.on('error', (e: SwitchboardError) => console.log(e.code, e.id, e.queued));
client.on('retry', ({ id, delay }) => console.log(id, delay));
client.on('signal', ({ from, kind, data }) => console.log(from, kind, data?.state));
client.on('read', ({ by, upTo, seq }) => console.log(by, upTo.length, seq.toFixed()));
client.on('delivered', ({ by, upTo, seq }) => console.log(by, upTo.length, seq.toFixed()));
const signalled: boolean = client.signal('bob', 'typing', { state: 'on' });
client.markRead('bob', '3kq9x0c1f2-1a');
const sent = client.send('bob', 'hi', { id: 'c-1' });
client.send('bob', 'did it arrive?', { receipt: true });
const id: string = sent.id;
sent.then((a: Accepted) => console.log(a.msgId, a.online, a.duplicate === true), (e: SwitchboardError) => e.code);
client.connect().ready().then(({ seq }) => console.log(seq));
client.on('room', ({ room, roomSeq, event, member, by }) => console.log(room, roomSeq.toFixed(), event, member, by));
client.on('message', (m) => console.log(m.room ?? 'direct', m.roomSeq ?? 0));
const toRoom = client.sendToRoom('team', 'hello team');
toRoom.then((a: Accepted) => console.log(a.room, a.roomSeq, a.msgId));
client.createRoom('team').then(({ roomSeq }: RoomChanged) => console.log(roomSeq.toFixed()));
client.addMember('team', 'carol').then(() => client.removeMember('team', 'carol')).then(() => client.leaveRoom('team'));
client.members('team').then(({ owner, members }: RoomMembers) => console.log(owner, members.length));
client.rooms().then((rooms: string[]) => console.log(rooms.join(',')));
client.mute({ room: 'team' }).then(({ room, muted }: MuteState) => console.log(room, muted));
client.mute({ peer: 'bob' }, false).then(() => client.mute()).then(() => client.muted({ peer: 'bob' }));
client.muted({ room: 'team' }).then((state: MuteState) => console.log(state.muted));
client.disconnect();
client.refreshToken('a.b.c');
client.close();
const problem: string | null = idProblem('bob');
const bytes: number = utf8Length('é');
const exp: number | null = tokenExp('a.b.c');
console.log(version, signalled, next, id, problem, bytes, exp, client.pending.length, client.lastSeq, client.synced);
